// Signs one element of a SAML document with xml-crypto (a JavaScript XML-DSig implementation
// that shares no code with goxmldsig or libxmlsec1), for ssod's saml interop test.
// Usage: node sign.js KEY.pem CERT.pem ELEMENT-LOCAL-NAME IN.xml > OUT.xml
// The signature is enveloped, exclusive C14N, RSA-SHA256 / SHA-256, placed after the
// element's Issuer, as SAML IdPs place it.
"use strict";
const fs = require("fs");
const { SignedXml } = require("xml-crypto");

const [keyFile, certFile, element, inFile] = process.argv.slice(2);
const xpath = `//*[local-name(.)='${element}']`;
const sig = new SignedXml({
  privateKey: fs.readFileSync(keyFile),
  publicCert: fs.readFileSync(certFile),
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
sig.computeSignature(fs.readFileSync(inFile, "utf8"), {
  prefix: "ds",
  location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: "after" },
});
process.stdout.write(sig.getSignedXml());
