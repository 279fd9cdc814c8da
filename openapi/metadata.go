package openapi

// addMetadata documents ssod's IdP metadata import: the two paths, their
// request, and the fields integrations carry for it.
func addMetadata(paths, schemas map[string]any, errorResponse func(string) map[string]any) {
	str := map[string]any{"type": "string"}
	integration := schemas["SsoIntegration"].(map[string]any)["properties"].(map[string]any)
	integration["metadata_url"] = map[string]any{"type": "string", "nullable": true,
		"description": "The URL ssod reads the IdP's metadata from, on a schedule and on request; null when the integration was not made from a URL (ssod extension)."}
	integration["metadata_refreshed_at"] = map[string]any{"type": "integer", "nullable": true,
		"description": "Unix seconds at which metadata last configured the integration; null when it never did (ssod extension)."}
	integration["metadata_error"] = map[string]any{"type": "string", "nullable": true,
		"description": "Why the last read of metadata_url failed (the integration stays as it was); null after a success (ssod extension)."}

	props := map[string]any{
		"name":         map[string]any{"type": "string", "description": "Required to create."},
		"enabled":      map[string]any{"type": "boolean", "description": "Required to create."},
		"metadata_xml": map[string]any{"type": "string", "description": "The IdP's SAML 2.0 metadata document (EntityDescriptor, or an EntitiesDescriptor)."},
		"metadata_url": map[string]any{"type": "string", "description": "An https URL that serves the IdP's metadata; ssod re-reads it on a schedule."},
		"entity_id":    map[string]any{"type": "string", "description": "Chooses one IdP of a document that describes several."},
	}
	schemas["SsoMetadataRequest"] = map[string]any{"title": "Create or update an integration from IdP metadata (ssod)", "type": "object",
		"description": "Exactly one of metadata_xml and metadata_url. On update, an empty body (or {}) reads the stored metadata_url again.",
		"properties":  props}
	body := func(required bool) map[string]any {
		return map[string]any{"required": required, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/SsoMetadataRequest"}}}}
	}
	responses := func() map[string]any {
		return map[string]any{
			"200": map[string]any{"description": "The integration.", "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/SsoIntegration"}}}},
			"400": map[string]any{"$ref": "#/components/responses/Sso400"},
			"401": map[string]any{"$ref": "#/components/responses/Sso401"},
			"403": map[string]any{"$ref": "#/components/responses/Sso403"},
			"404": errorResponse("Not found: no such integration for this account, or no such path."),
			"405": errorResponse("Method not allowed; see the Allow header."),
			"413": errorResponse("Request body larger than 64 KiB."),
			"415": errorResponse("Request body is not application/json."),
			"429": map[string]any{"$ref": "#/components/responses/Sso429"},
			"500": map[string]any{"$ref": "#/components/responses/Sso500"},
		}
	}
	paths["/v3/sso/integrations/metadata"] = map[string]any{
		"post": map[string]any{
			"operationId": "CreateSsoIntegrationFromMetadata",
			"summary":     "Create an SSO integration from its IdP's SAML metadata (ssod)",
			"tags":        []any{"SSO Settings"},
			"requestBody": body(true),
			"responses":   responses(),
		},
	}
	paths["/v3/sso/integrations/{id}/metadata"] = map[string]any{
		"parameters": []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": str}},
		"post": map[string]any{
			"operationId": "UpdateSsoIntegrationFromMetadata",
			"summary":     "Update an SSO integration from its IdP's SAML metadata, or read its metadata_url again (ssod)",
			"tags":        []any{"SSO Settings"},
			"requestBody": body(false),
			"responses":   responses(),
		},
	}
}
