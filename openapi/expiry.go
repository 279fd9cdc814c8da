package openapi

// addExpiryReport documents GET /v3/sso/expiry-report (README, "When sign-in
// stops working"): ssod's own, SendGrid has nothing like it.
func addExpiryReport(paths, schemas map[string]any, errorResponse func(string) map[string]any) {
	integer := map[string]any{"type": "integer"}
	schemas["SsoExpiryReportCertificate"] = map[string]any{
		"type":                 "object",
		"required":             []any{"id", "enabled", "not_before", "not_after"},
		"additionalProperties": false,
		"properties": map[string]any{
			"id":         integer,
			"enabled":    map[string]any{"type": "boolean"},
			"not_before": map[string]any{"type": "integer", "description": "Unix seconds."},
			"not_after":  map[string]any{"type": "integer", "description": "Unix seconds."},
		},
	}
	schemas["SsoExpiryReportEntry"] = map[string]any{
		"type":                 "object",
		"description":          "One integration and when its sign-in stops working.",
		"required":             []any{"integration_id", "name", "enabled", "signing_valid_until", "status", "certificates"},
		"additionalProperties": false,
		"properties": map[string]any{
			"integration_id": map[string]any{"type": "string"},
			"name":           map[string]any{"type": "string"},
			"enabled":        map[string]any{"type": "boolean"},
			"signing_valid_until": map[string]any{"type": "integer", "nullable": true,
				"description": "As in integration responses: Unix seconds, the last second sign-in works; null when it is broken now."},
			"status": map[string]any{"type": "string", "enum": []any{"broken", "expiring", "ok"},
				"description": "broken: sign-in does not work now; expiring: it stops within the window (signing_valid_until is before now + within); ok: later. Rated alike for enabled and disabled integrations."},
			"certificates": map[string]any{"type": "array", "description": "Every certificate of the integration, by id.",
				"items": map[string]any{"$ref": "#/components/schemas/SsoExpiryReportCertificate"}},
		},
	}
	paths["/v3/sso/expiry-report"] = map[string]any{
		"get": map[string]any{
			"operationId": "GetSsoExpiryReport",
			"summary":     "The account's SSO integrations by when their sign-in stops working, soonest first (ssod)",
			"tags":        []any{"SSO Settings"},
			"parameters": []any{map[string]any{"name": "within", "in": "query",
				"description": "The window for status expiring: a whole number of days (30d) or a Go duration (12h, 90m, 1h30m), from 0 to 3650d.",
				"schema":      map[string]any{"type": "string", "default": "30d"}}},
			"responses": map[string]any{
				"200": map[string]any{"description": "Broken (null signing_valid_until) first, then by signing_valid_until; ties by name, then id.",
					"content": map[string]any{"application/json": map[string]any{
						"schema": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/SsoExpiryReportEntry"}}}}},
				"400": map[string]any{"$ref": "#/components/responses/Sso400"},
				"401": map[string]any{"$ref": "#/components/responses/Sso401"},
				"403": map[string]any{"$ref": "#/components/responses/Sso403"},
				"404": errorResponse("No such path."),
				"405": errorResponse("Method not allowed; see the Allow header."),
				"429": map[string]any{"$ref": "#/components/responses/Sso429"},
				"500": map[string]any{"$ref": "#/components/responses/Sso500"},
			},
		},
	}
}
