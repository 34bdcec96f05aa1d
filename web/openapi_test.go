package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"preau/internal/dbtest"
)

// openapiDocument is the part of an OpenAPI 3.1 document the tests read.
type openapiDocument struct {
	OpenAPI    string                                       `json:"openapi"`
	Info       struct{ Title, Version, Description string } `json:"info"`
	Servers    []struct{ URL string }                       `json:"servers"`
	Security   []map[string][]string                        `json:"security"`
	Paths      map[string]map[string]openapiOp              `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]struct {
			Type, In, Name, Description string
		} `json:"securitySchemes"`
	} `json:"components"`
}

type openapiOp struct {
	OperationID string `json:"operationId"`
	Summary     string `json:"summary"`
	Parameters  []struct {
		Ref      string `json:"$ref"`
		Name, In string
		Required bool
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
	Security  *[]map[string][]string     `json:"security"`
}

func loadOpenAPI(t *testing.T) openapiDocument {
	t.Helper()
	var doc openapiDocument
	dec := json.NewDecoder(strings.NewReader(string(openapiDoc)))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if err := checkDuplicateKeys(openapiDoc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// apiRoutes walks the router for every "METHOD /api/v1/..." route.
func apiRoutes(t *testing.T) []string {
	t.Helper()
	d := dbtest.SQLite(t)
	s, _ := newServer(t, d, Config{}, testLogger(t))
	routes, ok := s.Handler().(chi.Routes)
	if !ok {
		t.Fatal("Handler() is not a chi.Routes")
	}
	var out []string
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/v1/") {
			out = append(out, method+" "+strings.TrimSuffix(route, "/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)\}`)

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers %+v, want one: /api/v1", doc.Servers)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented[strings.ToUpper(m)+" /api/v1"+p] = true
		}
	}
	routes := apiRoutes(t)
	if len(routes) < 20 {
		t.Fatalf("only %d API routes found: %v", len(routes), routes)
	}
	for _, r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.json documents %s, which is not a route", d)
		}
	}
}

func TestOpenAPIDocumentIsSound(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
	}
	if !strings.Contains(doc.Info.Description, "404") || !strings.Contains(doc.Info.Description, "403") {
		t.Error("the description does not state the 404-not-403 rule")
	}
	sc, ok := doc.Components.SecuritySchemes["session"]
	if !ok || sc.Type != "apiKey" || sc.In != "cookie" || sc.Name != cookiePlain || !strings.Contains(sc.Description, cookieSecure) {
		t.Errorf("security scheme %+v: want apiKey in cookie %s, mentioning %s", sc, cookiePlain, cookieSecure)
	}
	if len(doc.Security) != 1 || doc.Security[0]["session"] == nil {
		t.Errorf("global security %v, want the session cookie", doc.Security)
	}
	for _, name := range []string{"Me", "Person", "Pupil", "Structure", "Class", "Subject", "SchoolYear", "Session", "Error"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no component schema %s", name)
		}
	}
	var e struct {
		Required   []string
		Properties map[string]any
	}
	json.Unmarshal(doc.Components.Schemas["Error"], &e)
	if !slices.Equal(e.Required, []string{"error", "message"}) {
		t.Errorf("Error schema requires %v", e.Required)
	}

	// Every $ref resolves.
	var all any
	json.Unmarshal(openapiDoc, &all)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok && !resolves(all, ref) {
				t.Errorf("$ref %s does not resolve", ref)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(all)

	ids := map[string]bool{}
	for p, ops := range doc.Paths {
		want := pathParam.FindAllStringSubmatch(p, -1)
		for m, op := range ops {
			where := strings.ToUpper(m) + " " + p
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: missing or repeated operationId %q", where, op.OperationID)
			}
			ids[op.OperationID] = true
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s: no summary or no responses", where)
			}
			// Path parameters are declared, by name or through the shared Id.
			var declared []string
			for _, prm := range op.Parameters {
				switch {
				case prm.Ref == "#/components/parameters/Id":
					declared = append(declared, "id")
				case prm.In == "path":
					if !prm.Required {
						t.Errorf("%s: path parameter %s not required", where, prm.Name)
					}
					declared = append(declared, prm.Name)
				}
			}
			for _, w := range want {
				if !slices.Contains(declared, w[1]) {
					t.Errorf("%s: path parameter {%s} not declared", where, w[1])
				}
			}
			if len(declared) != len(want) {
				t.Errorf("%s: %d path parameters declared, %d in the path", where, len(declared), len(want))
			}
			// Public operations are exactly the sign-in steps.
			public := op.Security != nil && len(*op.Security) == 0
			if public != (p == "/auth/login" || p == "/auth/activate" || p == "/auth/totp") {
				t.Errorf("%s: public = %v", where, public)
			}
			if !public {
				if _, ok := op.Responses["401"]; !ok {
					t.Errorf("%s: no 401 response", where)
				}
			}
			if len(want) > 0 && !strings.HasPrefix(p, "/me/") {
				if _, ok := op.Responses["404"]; !ok {
					t.Errorf("%s: an object route without a 404 response", where)
				}
			}
		}
	}
	login := doc.Paths["/auth/login"]["post"]
	for _, code := range []string{"200", "401", "429"} {
		if _, ok := login.Responses[code]; !ok {
			t.Errorf("POST /auth/login: no %s response", code)
		}
	}
}

// resolves follows a local JSON pointer such as #/components/schemas/Me.
func resolves(root any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := root
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestOpenAPIServed(t *testing.T) {
	d := dbtest.SQLite(t)
	s, _ := newServer(t, d, Config{}, testLogger(t))
	w := serve(s.Handler(), "GET", "/api/openapi.json", "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if !json.Valid(w.Body.Bytes()) {
		t.Fatal("served document is not JSON")
	}
}
