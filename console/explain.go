package console

// explanations say, for each result of a sign-in, what it means for the
// person setting up the identity provider and what to change. The trace's
// own message names the values.
var explanations = map[string]string{
	"ok":                        "Signed in.",
	"saml_malformed":            "What arrived was not a usable SAML response: check that the IdP posts to the single sign-on URL with the HTTP-POST binding and does not encrypt the assertion.",
	"saml_integration_disabled": "The integration is disabled here. Enable it to let sign-ins through.",
	"saml_status":               "The identity provider itself refused the sign-in (its status was not Success): the user may not be assigned to this application there.",
	"saml_signature":            "The signature did not verify with any enabled certificate that is valid now. Upload the IdP's current signing certificate (or enable it), and make sure the IdP signs with SHA-256.",
	"saml_issuer":               "The response came from another issuer than this integration's entity ID. Copy the IdP's entity ID (issuer) into the integration exactly.",
	"saml_destination":          "The response was addressed to another URL. Give the IdP this integration's single sign-on URL exactly.",
	"saml_recipient":            "The assertion's recipient is another URL. Give the IdP this integration's single sign-on URL exactly as the ACS / recipient URL.",
	"saml_not_yet_valid":        "The assertion is not valid yet: the identity provider's clock is ahead of this server's.",
	"saml_expired":              "The assertion had expired when it arrived: it was delayed or replayed, or the clocks disagree.",
	"saml_audience":             "The assertion is meant for another audience. Give the IdP this integration's audience URL (entity ID) exactly.",
	"saml_subject":              "The assertion names no user (its NameID is empty). Configure the IdP to send the user's email address as the NameID.",
	"saml_in_response_to":       "The response answers a sign-in request this server did not send, already used, or sent more than 10 minutes ago. Start the sign-in again.",
	"saml_replay":               "This exact assertion was used before: a second submission of the same response is refused.",
	"saml_unknown_teammate":     "The user signed in at the IdP is not an SSO teammate of this account. Add them as a teammate, or turn on just-in-time provisioning.",
	"too_large":                 "The response was larger than this server accepts.",
	"rate_limited":              "Too many sign-in attempts came from one address; wait a minute.",
	"internal":                  "This server failed while checking the sign-in; its log has the details.",
}

// explain returns the plain-words explanation of a trace's result.
func explain(result string) string {
	if e, ok := explanations[result]; ok {
		return e
	}
	return "The sign-in was refused (" + result + ")."
}
