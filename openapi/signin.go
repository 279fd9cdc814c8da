package openapi

// addSignIn documents ssod's SAML sign-in paths (README, "SAML sign-in"): the three public
// paths an IdP and a browser use, and the login traces. SendGrid's file has none of them.
func addSignIn(paths, schemas map[string]any, errorResponse func(string) map[string]any) {
	str := map[string]any{"type": "string"}
	nullable := func(t string) map[string]any { return map[string]any{"type": t, "nullable": true} }
	integrationID := map[string]any{"name": "integration_id", "in": "path", "required": true, "schema": str}
	// Failures on the public paths are the error array for a client that asks for JSON,
	// and a small HTML page otherwise.
	publicError := func(desc string) map[string]any {
		r := errorResponse(desc)
		r["content"].(map[string]any)["text/html"] = map[string]any{"schema": str}
		return r
	}
	publicErrors := func(r map[string]any, statuses ...string) map[string]any {
		desc := map[string]string{
			"400": "saml_malformed (check 1), or a bad RelayState at login.",
			"403": "A refused sign-in: error_id names the check (saml_integration_disabled, saml_status, saml_signature, saml_issuer, saml_destination, saml_recipient, saml_not_yet_valid, saml_expired, saml_audience, saml_subject, saml_in_response_to, saml_replay).",
			"404": "No such integration.",
			"405": "Method not allowed; see the Allow header.",
			"413": "SAMLResponse longer than 256 KiB of base64.",
			"415": "The body is not application/x-www-form-urlencoded.",
			"429": "Too many requests from this client address; see Retry-After.",
			"500": "Internal error.",
		}
		for _, st := range statuses {
			r[st] = publicError(desc[st])
		}
		return r
	}

	schemas["SamlSignIn"] = map[string]any{
		"type":        "object",
		"description": "An accepted sign-in, read from the assertion the verified signature covers.",
		"required": []any{"integration_id", "issuer", "name_id", "name_id_format", "session_index", "authn_instant",
			"assertion_id", "in_response_to", "attributes", "certificate_id", "relay_state"},
		"additionalProperties": false,
		"properties": map[string]any{
			"integration_id": str,
			"issuer":         str,
			"name_id":        str,
			"name_id_format": str,
			"session_index":  str,
			"authn_instant":  map[string]any{"type": "integer", "nullable": true, "description": "Unix seconds; null without an AuthnStatement."},
			"assertion_id":   str,
			"in_response_to": nullable("string"),
			"attributes":     map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": str}},
			"certificate_id": map[string]any{"type": "integer", "description": "The certificate that verified the assertion's signature."},
			"relay_state":    nullable("string"),
		},
	}
	schemas["SamlLoginTrace"] = map[string]any{
		"type":                 "object",
		"description":          "One POST to the integration's Assertion Consumer Service and what ssod decided.",
		"required":             []any{"id", "time", "result", "message", "name_id", "assertion_id", "certificate_id", "in_response_to", "request_id"},
		"additionalProperties": false,
		"properties": map[string]any{
			"id":             map[string]any{"type": "integer"},
			"time":           map[string]any{"type": "integer", "description": "Unix seconds."},
			"result":         map[string]any{"type": "string", "description": "ok, or the error_id of the refusal."},
			"message":        str,
			"name_id":        nullable("string"),
			"assertion_id":   nullable("string"),
			"certificate_id": nullable("integer"),
			"in_response_to": nullable("string"),
			"request_id":     nullable("string"),
		},
	}

	paths["/v3/sso/integrations/{id}/logins"] = map[string]any{
		"parameters": []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": str}},
		"get": map[string]any{
			"operationId": "ListSsoLoginTraces",
			"summary":     "List an SSO integration's login traces (ssod)",
			"tags":        []any{"SSO Settings"},
			"parameters": []any{map[string]any{"name": "limit", "in": "query",
				"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}},
			"responses": map[string]any{
				"200": map[string]any{"description": "Newest first.", "content": map[string]any{"application/json": map[string]any{
					"schema": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/SamlLoginTrace"}}}}},
				"400": map[string]any{"$ref": "#/components/responses/Sso400"},
				"401": map[string]any{"$ref": "#/components/responses/Sso401"},
				"403": map[string]any{"$ref": "#/components/responses/Sso403"},
				"404": errorResponse("Not found: no such integration for this account, or no such path."),
				"405": errorResponse("Method not allowed; see the Allow header."),
				"429": map[string]any{"$ref": "#/components/responses/Sso429"},
				"500": map[string]any{"$ref": "#/components/responses/Sso500"},
			},
		},
	}
	noAuth := []any{}
	paths["/v3/public/sso/saml/response/id/{integration_id}"] = map[string]any{
		"parameters": []any{integrationID},
		"post": map[string]any{
			"operationId": "SamlAssertionConsumerService",
			"summary":     "The integration's single_signon_url: the IdP posts a signed SAML response here (HTTP-POST binding)",
			"tags":        []any{"SAML sign-in"},
			"security":    noAuth,
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/x-www-form-urlencoded": map[string]any{
				"schema": map[string]any{"type": "object", "required": []any{"SAMLResponse"}, "properties": map[string]any{
					"SAMLResponse": map[string]any{"type": "string", "maxLength": 256 << 10, "description": "Base64 of the SAML Response."},
					"RelayState":   map[string]any{"type": "string", "maxLength": 80},
				}}}}},
			"responses": publicErrors(map[string]any{
				"200": map[string]any{"description": "Signed in: JSON when the request accepts application/json, else an HTML page.",
					"content": map[string]any{
						"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/SamlSignIn"}},
						"text/html":        map[string]any{"schema": str},
					}},
			}, "400", "403", "404", "405", "413", "415", "429", "500"),
		},
	}
	paths["/v3/public/sso/saml/metadata/id/{integration_id}"] = map[string]any{
		"parameters": []any{integrationID},
		"get": map[string]any{
			"operationId": "SamlServiceProviderMetadata",
			"summary":     "SAML metadata of ssod as the integration's service provider, for the IdP to import",
			"tags":        []any{"SAML sign-in"},
			"security":    noAuth,
			"responses": publicErrors(map[string]any{
				"200": map[string]any{"description": "An EntityDescriptor.", "content": map[string]any{
					"application/samlmetadata+xml": map[string]any{"schema": str}}},
			}, "404", "405", "429", "500"),
		},
	}
	paths["/v3/public/sso/saml/login/id/{integration_id}"] = map[string]any{
		"parameters": []any{integrationID},
		"get": map[string]any{
			"operationId": "SamlStartSignIn",
			"summary":     "Start an SP-initiated sign-in: redirect to the IdP with an AuthnRequest (HTTP-Redirect binding)",
			"tags":        []any{"SAML sign-in"},
			"security":    noAuth,
			"parameters":  []any{map[string]any{"name": "RelayState", "in": "query", "schema": map[string]any{"type": "string", "maxLength": 80}}},
			"responses": publicErrors(map[string]any{
				"302": map[string]any{"description": "To the integration's signin_url with SAMLRequest and RelayState.",
					"headers": map[string]any{"Location": map[string]any{"schema": str}}},
			}, "400", "403", "404", "405", "429", "500"),
		},
	}
}
