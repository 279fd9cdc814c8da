package openapi

// addExpiryWebhook documents ssod's expiry webhook (README, "Expiry
// webhook"): the resource an account sets, and the events it is sent.
func addExpiryWebhook(paths, schemas map[string]any, errorResponse func(string) map[string]any) {
	str := map[string]any{"type": "string"}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	jsonBody := func(schema map[string]any) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	schemas["ExpiryWebhookRequest"] = map[string]any{
		"type":     "object",
		"required": []any{"url"},
		"properties": map[string]any{
			"url":     map[string]any{"type": "string", "description": "An https URL that resolves to no loopback, private or link-local address (unless ssod serve --allow-private-urls)."},
			"enabled": map[string]any{"type": "boolean", "default": true, "description": "false keeps the webhook but holds its events back."},
		},
	}
	schemas["ExpiryWebhook"] = map[string]any{
		"type":                 "object",
		"required":             []any{"url", "enabled", "public_key"},
		"additionalProperties": false,
		"properties": map[string]any{
			"url":        str,
			"enabled":    map[string]any{"type": "boolean"},
			"public_key": map[string]any{"type": "string", "description": "Base64 DER (PKIX) of the account's ECDSA P-256 key that signs its events, made once per account; verify with sendgrid-go's helpers/eventwebhook."},
		},
	}
	schemas["ExpiryWebhookEvent"] = map[string]any{
		"type":        "object",
		"description": "One element of the JSON array POSTed to the webhook, signed in the X-Twilio-Email-Event-Webhook-Signature and X-Twilio-Email-Event-Webhook-Timestamp headers as SendGrid's Event Webhook signs.",
		"required":    []any{"event", "integration_id", "days_left", "signing_valid_until", "timestamp", "sg_event_id"},
		"properties": map[string]any{
			"event":               map[string]any{"type": "string", "enum": []any{"sso.signing.expiring", "sso.signing.broken", "sso.signing.renewed"}},
			"integration_id":      str,
			"days_left":           map[string]any{"type": "integer", "enum": []any{90, 30, 7, 1, 0}, "description": "The threshold crossed, for expiring; 0 for broken and renewed."},
			"signing_valid_until": map[string]any{"type": "integer", "nullable": true, "description": "Unix seconds at which sign-in stops working; null when broken."},
			"timestamp":           map[string]any{"type": "integer", "description": "Unix seconds the event was found."},
			"sg_event_id":         map[string]any{"type": "string", "description": "Unique per event, the same on every retry: receivers drop repeats by it."},
		},
	}
	errs := func(statuses ...string) map[string]any {
		desc := map[string]string{
			"400": "A bad body; the url ssod may not call is named in field url.",
			"401": "Missing or bad API key.", "403": "The key lacks the scope.",
			"404": "The account has no expiry webhook.", "405": "Method not allowed; see the Allow header.",
			"413": "Request body larger than 64 KiB.", "415": "Request body is not application/json.",
			"429": "Too many requests; see Retry-After.", "500": "Internal error.",
		}
		r := map[string]any{}
		for _, st := range statuses {
			r[st] = errorResponse(desc[st])
		}
		return r
	}
	withStatus := func(r map[string]any, status string, v map[string]any) map[string]any {
		r[status] = v
		return r
	}
	hook := map[string]any{"description": "The account's expiry webhook.", "content": jsonBody(ref("ExpiryWebhook"))}
	paths["/v3/sso/expiry-webhook"] = map[string]any{
		"put": map[string]any{
			"operationId": "PutSsoExpiryWebhook",
			"summary":     "Set the account's expiry webhook (ssod; scope sso.settings.update)",
			"tags":        []any{"SSO Settings"},
			"requestBody": map[string]any{"required": true, "content": jsonBody(ref("ExpiryWebhookRequest"))},
			"responses":   withStatus(errs("400", "401", "403", "405", "413", "415", "429", "500"), "200", hook),
		},
		"get": map[string]any{
			"operationId": "GetSsoExpiryWebhook",
			"summary":     "Get the account's expiry webhook (ssod; scope sso.settings.read)",
			"tags":        []any{"SSO Settings"},
			"responses":   withStatus(errs("401", "403", "404", "405", "429", "500"), "200", hook),
		},
		"delete": map[string]any{
			"operationId": "DeleteSsoExpiryWebhook",
			"summary":     "Delete the account's expiry webhook; its signing key is kept (ssod; scope sso.settings.delete)",
			"tags":        []any{"SSO Settings"},
			"responses":   withStatus(errs("401", "403", "404", "405", "429", "500"), "204", map[string]any{"description": "Deleted."}),
		},
	}
}
