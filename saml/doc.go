// Package saml verifies SAML 2.0 responses that an integration's IdP posts to ssod's
// Assertion Consumer Service. It is a pure function of its inputs, in the manner of
// crypto/x509's Certificate.Verify: a document, the integration's certificates, its expected
// issuer, ACS URL and audience, and the current time go in; a verified Assertion or an
// *Error with the contract's error_id comes out. It does no HTTP, storage or logging and
// reads no clock, so the same input always gives the same answer.
//
//	r, err := saml.Parse(xml)            // check 1: saml_malformed
//	...                                  // check 2 (integration enabled): the caller
//	a, err := r.Verify(saml.VerifyOptions{Now: now, Skew: skew, Certificates: certs,
//		Issuer: entityID, ACSURL: singleSignOnURL, Audience: audienceURL})
//	...                                  // checks 12 (a.InResponseTo) and 13 (a.ID): the caller
//
// Verify runs checks 3 to 11 of the README's "SAML sign-in" in their order and the part of check 12
// that needs no storage (the Response's and the confirmation's InResponseTo agree). The
// caller checks a.InResponseTo against its outstanding requests and records a.ID until
// a.NotOnOrAfter plus the skew, once, across instances. A refusal at checks 5 to 11 carries
// in Error.Assertion the ID, NameID and certificate of the assertion the verified signature
// covers, for the login trace; a refusal at checks 1 to 4 carries nothing from the document.
//
// # What it refuses, and why
//
//   - Anything check 1 does not like, before any cryptography: more than MaxSize bytes or
//     MaxDepth levels, invalid UTF-8, a DTD (so no entity is ever declared or expanded;
//     encoding/xml never expands one anyway), processing instructions, XML that is not
//     namespace-well-formed, duplicate attributes, two elements with the same ID, an
//     EncryptedAssertion, more than one Assertion anywhere, and an Assertion that is not a
//     child of the Response. With one Assertion in the whole document, signature wrapping
//     (XSW 1 to 8 and their relatives) has nowhere to hide a second one.
//   - Signatures other than the one form SAML IdPs produce: a ds:Signature that is a child of
//     the element it signs (the Response or the Assertion), holding only SignedInfo,
//     SignatureValue and KeyInfo (no Object), one Reference whose URI is "#" + that
//     element's ID, exactly the enveloped-signature and exclusive C14N transforms, exclusive
//     C14N for SignedInfo, RSA or ECDSA with SHA-256, -384 or -512 (SHA-1 only with
//     AllowSHA1). A ds:Signature anywhere else is refused too: every signature present must
//     verify.
//   - Certificates that are disabled or whose X.509 window does not contain Now (no skew for
//     certificates). KeyInfo is only a hint of which certificate to try first: it is not
//     signed, so every usable certificate of the integration is tried and a certificate
//     KeyInfo carries is never trusted for being there. Assertion.CertificateID says which
//     certificate verified the signature over the assertion.
//
// The assertion Verify reads is taken from the bytes the verified signature covers:
// goxmldsig's Validate returns the element re-parsed from the canonical bytes whose digest
// was checked, never a second lookup in the original document. When only the Response is
// signed, the Assertion is read from that verified Response; when the Assertion is signed,
// from its own verified bytes (and a Response signature, if present, must verify as well).
// NameID and attribute values are the whole text of their element, so a comment inside a
// NameID (the CVE-2017-11427 class: exclusive C14N drops comments, so the signature still
// holds) cannot cut it short.
//
// Two things goxmldsig does not do and Verify does before calling it: an Assertion
// verified on its own is first given the namespace declarations it inherits from the
// Response (SimpleSAMLphp declares prefixes only there, and exclusive C14N must see them to
// reproduce the signed bytes); and an ECDSA SignatureValue, which XML-DSig encodes as raw
// r||s, is re-encoded as the ASN.1 that crypto/x509 checks (the SignatureValue is not itself
// signed, so nothing covered changes; a value that is not r||s of the key's size is refused).
//
// Times (checks 8 and 9) allow Skew either way; the bearer confirmation must carry
// NotOnOrAfter (the Web SSO profile requires it, and replay protection needs an end). Every
// AudienceRestriction must list the audience (SAML core makes each one a condition). Error
// messages quote the values they name (Go syntax, cut to 120 bytes) and never include XML
// or key material.
//
// # Why goxmldsig, and not gosaml2 or crewjam/saml
//
// All three were read at the versions the module proxy serves (goxmldsig v1.6.1, gosaml2
// v0.12.0, crewjam/saml v0.6.3). gosaml2 and crewjam/saml are whole service providers
// built on goxmldsig; both put their own policy between ssod and the signature check, and
// ssod's contract needs a different one:
//
//   - gosaml2's SAMLServiceProvider reports a wrong audience or a time outside Conditions
//     only as WarningInfo and still returns the assertion, reads only Assertions[0], has no
//     clock skew and never checks InResponseTo; ssod would have had to redo all of that
//     around it and still could not choose the check order or the error codes.
//   - crewjam/saml's ServiceProvider is driven by IdP metadata and an *http.Request (or a
//     URL), keeps its clock skew and issue delay in package variables (global state a
//     pure verifier must not have), folds most failures into one InvalidResponseError, and
//     brings session, JWT and HTTP middleware code ssod does not use.
//   - goxmldsig is the maintained XML-DSig and canonicalization library both of them use
//     (the signature-loop fix of 1.6.0 included). Used directly, it does exactly the
//     cryptographic part: exclusive C14N, the enveloped transform, the digest and the
//     signature, returning the verified bytes re-parsed. Everything SAML-specific (which
//     element, which certificates, which algorithms, the checks and their order) is this
//     package's, in about 900 lines of code that the tests and the public corpus exercise.
//
// # What ssod sends
//
// The package also renders the two documents ssod sends as the service provider, both with
// encoding/xml, which escapes every value: AuthnRequest, an SP-initiated sign-in's request
// in the HTTP-Redirect binding (RedirectURL), and SPMetadata, the metadata an IdP imports.
//
// github.com/beevik/etree comes with goxmldsig (its element type is goxmldsig's API); Parse
// uses it with duplicate attributes preserved (so they can be refused) and a depth limit.
package saml
