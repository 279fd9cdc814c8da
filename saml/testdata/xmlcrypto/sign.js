// Signs one element of SAML documents with xml-crypto (a JavaScript XML-DSig implementation
// that shares no code with goxmldsig or libxmlsec1), for ssod's saml interop tests.
// Usage: node sign.js KEY.pem CERT.pem ELEMENT-LOCAL-NAME IN.xml...
// In each IN.xml the element is signed enveloped, exclusive C14N, RSA-SHA256 / SHA-256, the
// signature placed after the element's Issuer as SAML IdPs place it; the result is written
// to IN.xml.signed (one process for many documents keeps the tests fast).
"use strict";
const fs = require("fs");
const { SignedXml } = require("xml-crypto");

const [keyFile, certFile, element, ...inFiles] = process.argv.slice(2);
const xpath = `//*[local-name(.)='${element}']`;
const privateKey = fs.readFileSync(keyFile);
const publicCert = fs.readFileSync(certFile);

function sign(xml) {
  const sig = new SignedXml({
    privateKey,
    publicCert,
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
    idAttribute: "ID",
  });
  sig.addReference({
    xpath,
    transforms: [
      "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
      "http://www.w3.org/2001/10/xml-exc-c14n#",
    ],
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
  });
  sig.computeSignature(xml, {
    prefix: "ds",
    location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: "after" },
  });
  return sig.getSignedXml();
}

for (const inFile of inFiles) {
  fs.writeFileSync(`${inFile}.signed`, sign(fs.readFileSync(inFile, "utf8")));
}
