package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
)

//go:embed tsg_teammates_v3.json
var teammatesSpec []byte

// TeammatesSpec returns SendGrid's Teammates file with its version line set
// to 3.0.3, as SendGridSpec does (see SOURCE.md).
func TeammatesSpec() []byte {
	return bytes.Replace(teammatesSpec, []byte(`"openapi": "3.1.0"`), []byte(`"openapi": "3.0.3"`), 1)
}

// teammateOperations are the Teammates file's operations ssod serves, for
// SSO teammates: invitations, pending teammates, subuser access listing and
// the password teammates' PATCH stay out (README, "SSO teammates").
var teammateOperations = map[string][]string{
	"/v3/teammates":            {"get"},
	"/v3/teammates/{username}": {"get", "delete"},
}

// addTeammates documents the SSO teammates: SendGrid's SSO Teammates
// operations stay in (Document no longer drops them), the three Teammates
// operations ssod serves are copied from SendGrid's Teammates file, with the
// error array for every failure, and integrations and sign-ins gain what
// ssod adds (jit_provisioning, jit_persona, the signed-in teammate).
func addTeammates(paths, schemas, components map[string]any, errorResponse func(string) map[string]any) error {
	var tm map[string]any
	if err := json.Unmarshal(TeammatesSpec(), &tm); err != nil {
		return fmt.Errorf("openapi: read SendGrid's Teammates file: %w", err)
	}
	tmPaths := tm["paths"].(map[string]any)
	tmComponents := tm["components"].(map[string]any)
	for p, methods := range teammateOperations {
		src := tmPaths[p].(map[string]any)
		item := map[string]any{}
		if params, ok := src["parameters"]; ok {
			item["parameters"] = params
		}
		for _, m := range methods {
			op := src[m].(map[string]any)
			responses := op["responses"].(map[string]any)
			// The file declares DELETE's 404 as {"errors": [...]}; ssod's
			// errors are the SSO error array everywhere.
			for _, st := range []string{"400", "401", "403", "404", "405", "429", "500"} {
				responses[st] = errorResponse("The error array (ssod answers every failure with it).")
			}
			item[m] = op
		}
		paths[p] = item
	}
	// The copied operations refer to these by name.
	tmSchemas := tmComponents["schemas"].(map[string]any)
	schemas["UserType1"] = tmSchemas["UserType1"]
	params, _ := components["parameters"].(map[string]any)
	if params == nil {
		params = map[string]any{}
		components["parameters"] = params
	}
	maps.Copy(params, tmComponents["parameters"].(map[string]any))

	// PATCH of a teammate changes only the fields sent: the body requires nothing.
	partial := map[string]any{}
	for k, v := range schemas["SsoTeammatesBaseRequestProps"].(map[string]any) {
		if k != "required" {
			partial[k] = v
		}
	}
	partial["title"] = "Update SSO Teammate Request (partial: only the fields sent change)"
	schemas["PatchSsoTeammateRequestPartial"] = partial
	patch := paths["/v3/sso/teammates/{username}"].(map[string]any)["patch"].(map[string]any)
	patch["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/PatchSsoTeammateRequestPartial"}}}}

	// Integrations: just-in-time provisioning.
	jit := map[string]any{
		"jit_provisioning": map[string]any{"type": "boolean", "description": "An unknown NameID that signs in becomes an SSO teammate with jit_persona (ssod extension; default false)."},
		"jit_persona":      map[string]any{"type": "string", "enum": []any{"accountant", "developer", "marketer", "observer"}, "description": "The persona of a teammate created by just-in-time provisioning (ssod extension; default observer)."},
	}
	for _, name := range []string{"SsoIntegration", "PostPatchIntegrationRequest", "PatchIntegrationRequest"} {
		props := schemas[name].(map[string]any)["properties"].(map[string]any)
		maps.Copy(props, jit)
	}

	// The signed-in teammate in an accepted sign-in.
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	schemas["SamlSignInTeammate"] = map[string]any{
		"type":                 "object",
		"description":          "The SSO teammate the NameID names (check 14), as it is after just-in-time provisioning.",
		"required":             []any{"username", "is_admin", "scopes", "has_restricted_subuser_access", "subuser_access"},
		"additionalProperties": false,
		"properties": map[string]any{
			"username":                      str,
			"is_admin":                      map[string]any{"type": "boolean"},
			"scopes":                        strs,
			"has_restricted_subuser_access": map[string]any{"type": "boolean"},
			"subuser_access": map[string]any{"type": "array", "items": map[string]any{
				"type": "object", "required": []any{"id", "permission_type", "scopes"},
				"properties": map[string]any{
					"id":              map[string]any{"type": "integer"},
					"permission_type": map[string]any{"type": "string", "enum": []any{"admin", "restricted"}},
					"scopes":          strs,
				}}},
		},
	}
	signIn := schemas["SamlSignIn"].(map[string]any)
	signIn["properties"].(map[string]any)["teammate"] = map[string]any{"$ref": "#/components/schemas/SamlSignInTeammate"}
	signIn["required"] = append(signIn["required"].([]any), "teammate")
	return nil
}
