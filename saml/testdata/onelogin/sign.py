# Signs SAML elements with python3-saml, OneLogin's SAML toolkit (Debian package
# python3-onelogin-saml2), for ssod's saml interop test. The toolkit builds the signature
# template itself (with python3-xmlsec over libxmlsec1) and places it after the element's
# Issuer, as it does for the messages it sends.
# Usage: /usr/bin/python3 sign.py KEY.pem CERT.pem IN.xml...
# Each IN.xml's root element (the parent of its first saml:Issuer) is signed enveloped,
# exclusive C14N, RSA-SHA256 / SHA-256; the result is written to IN.xml.signed.
import sys

from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils as U

with open(sys.argv[1]) as f:
    key = f.read()
with open(sys.argv[2]) as f:
    cert = f.read()
for path in sys.argv[3:]:
    with open(path) as f:
        xml = f.read()
    signed = U.add_sign(xml, key, cert, sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
    with open(path + ".signed", "wb") as f:
        f.write(signed if isinstance(signed, bytes) else signed.encode())
