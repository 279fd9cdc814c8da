// Package openapi holds SendGrid's OpenAPI files for the v3 SSO API and its
// Teammates API (the wire contract) and derives from them the document ssod
// serves at /openapi.json.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed tsg_sso_v3.json
var sendGridSpec []byte

// SendGridSpec returns SendGrid's file with its version line set to 3.0.3,
// which is what its content is written in (see SOURCE.md).
func SendGridSpec() []byte {
	return bytes.Replace(sendGridSpec, []byte(`"openapi": "3.1.0"`), []byte(`"openapi": "3.0.3"`), 1)
}

// Document returns ssod's own OpenAPI document: SendGrid's SSO operations and
// the Teammates operations ssod serves, plus what ssod documents beyond them (the
// integration_id and enabled fields of a certificate, partial PATCH of an
// integration, and the 404, 405, 413 and 415 answers).
func Document() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(SendGridSpec(), &doc); err != nil {
		return nil, fmt.Errorf("openapi: read SendGrid's file: %w", err)
	}
	info := doc["info"].(map[string]any)
	delete(info, "summary") // OpenAPI 3.1 only
	info["title"] = "ssod: SendGrid v3 SSO API, self-hosted"
	info["description"] = "SendGrid's v3 Single Sign-On operations (settings, certificates, SSO teammates) and the Teammates operations that read and delete SSO teammates, as ssod serves them. " +
		"Derived from SendGrid's OpenAPI file (MIT); see the x-ssod-extensions note for what ssod adds."
	doc["servers"] = []any{map[string]any{"url": "/", "description": "this ssod server"}}
	doc["x-ssod-extensions"] = "Certificate responses also carry integration_id (correct spelling) and enabled; " +
		"requests may spell integration_id either way. PATCH of an integration changes only the fields sent. " +
		"Errors 404, 405, 413 and 415 use SsoErrorResponse. " +
		"SAML sign-in (the paths under /v3/public/sso/saml, and the login traces) is ssod's own. " +
		"So is GET /v3/sso/expiry-report. " +
		"Integrations carry jit_provisioning, jit_persona and signing_valid_until; PATCH of an SSO teammate changes only the fields sent. GET /v3/teammates, GET and DELETE /v3/teammates/{username} " +
		"come from SendGrid's Teammates API file (MIT), for SSO teammates, with the error array for every failure. " +
		"The expiry webhook (/v3/sso/expiry-webhook) and its events (ExpiryWebhookEvent) are ssod's own. " +
		"Integrations can be made from IdP metadata (the paths under /v3/sso/integrations/…/metadata) and carry metadata_url, metadata_refreshed_at and metadata_error."

	paths := doc["paths"].(map[string]any)
	components := doc["components"].(map[string]any)
	schemas := components["schemas"].(map[string]any)
	for _, schema := range schemas {
		delete(schema.(map[string]any), "summary") // not a schema keyword
	}
	cert := schemas["SsoCertificateBody"].(map[string]any)["properties"].(map[string]any)
	cert["integration_id"] = map[string]any{"type": "string", "description": "The integration the certificate belongs to (ssod extension; same value as intergration_id)."}
	cert["enabled"] = map[string]any{"type": "boolean", "description": "Indicates if the certificate is enabled (ssod extension)."}
	integration := schemas["SsoIntegration"].(map[string]any)["properties"].(map[string]any)
	integration["signing_valid_until"] = map[string]any{"type": "integer", "nullable": true,
		"description": "Unix seconds at which sign-in stops working: the latest not_after among the enabled certificates whose window has started; null when there is none or it has passed (ssod extension)."}

	partial := map[string]any{}
	for k, v := range schemas["PostPatchIntegrationRequest"].(map[string]any) {
		if k != "required" {
			partial[k] = v
		}
	}
	partial["title"] = "Update Integration Request (partial: only the fields sent change)"
	schemas["PatchIntegrationRequest"] = partial

	errorResponse := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/SsoErrorResponse"}}}}
	}
	for p, item := range paths {
		for method, op := range item.(map[string]any) {
			op, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			responses := op["responses"].(map[string]any)
			responses["404"] = errorResponse("Not found: no such object for this account, or no such path.")
			responses["405"] = errorResponse("Method not allowed; see the Allow header.")
			if method == "post" || method == "patch" {
				responses["413"] = errorResponse("Request body larger than 64 KiB.")
				responses["415"] = errorResponse("Request body is not application/json.")
			}
			if p == "/v3/sso/integrations/{id}" && method == "patch" {
				op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{
					"schema": map[string]any{"$ref": "#/components/schemas/PatchIntegrationRequest"}}}}
			}
		}
	}
	addSignIn(paths, schemas, errorResponse)
	addExpiryReport(paths, schemas, errorResponse)
	addExpiryWebhook(paths, schemas, errorResponse)
	addMetadata(paths, schemas, errorResponse)
	if err := addTeammates(paths, schemas, components, errorResponse); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: encode document: %w", err)
	}
	return out, nil
}
