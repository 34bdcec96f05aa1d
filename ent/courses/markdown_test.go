package courses

import (
	"io"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// unsafeMarkup returns why the rendered HTML out could run script, load
// something or leave the allowed markup, or "" when it cannot.
func unsafeMarkup(out string) string {
	if strings.Contains(strings.ToLower(out), "<script") {
		return "a <script"
	}
	allowed := map[string]bool{"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "a": true,
		"em": true, "strong": true, "del": true, "code": true, "pre": true, "blockquote": true, "ul": true, "ol": true, "li": true,
		"hr": true, "br": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "input": true}
	z := xhtml.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if z.Err() == io.EOF {
				return ""
			}
			return z.Err().Error()
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if !allowed[tok.Data] {
			return "element <" + tok.Data + ">"
		}
		rel := ""
		for _, a := range tok.Attr {
			k, v := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(k, "on"):
				return "attribute " + k
			case k == "style" || k == "src" || k == "srcset" || k == "formaction":
				return "attribute " + k
			case k == "href":
				if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") {
					return "href " + v
				}
			case k == "rel":
				rel = a.Val
			}
			if strings.Contains(strings.ReplaceAll(v, " ", ""), "javascript:") && k != "alt" {
				return "javascript: in " + k
			}
		}
		if tok.Data == "a" && rel != Rel {
			return "link without rel=" + Rel
		}
		if tok.Data == "input" {
			for _, a := range tok.Attr {
				if a.Key != "checked" && a.Key != "disabled" && a.Key != "type" {
					return "input attribute " + a.Key
				}
			}
		}
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want, not []string
	}{
		{"heading and link", "# Les fractions\n\nVoir [le cours](https://exemple.fr/cours?a=1&b=2).",
			[]string{"<h1>Les fractions</h1>", `<a href="https://exemple.fr/cours?a=1&amp;b=2" rel="noopener noreferrer nofollow">le cours</a>`}, nil},
		{"script block shown as text", "<script>alert(1)</script>",
			[]string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script"}},
		{"inline script shown as text", "Avant <script>alert(1)</script> après",
			[]string{"Avant &lt;script&gt;alert(1)&lt;/script&gt; après"}, []string{"<script"}},
		{"event attribute", `<img src=x onerror="alert(1)">`, []string{"&lt;img src=x onerror="}, []string{"<img"}},
		{"javascript link", "[clic](javascript:alert(1))", []string{"clic"}, []string{"href", "javascript:alert"}},
		{"javascript with case and spaces", "[clic](JaVaScRiPt:alert(1)) [b](<java script:x>)", []string{"clic"}, []string{"href"}},
		{"data link", "[d](data:text/html;base64,PHNjcmlwdD4=)", []string{"<p>d</p>"}, []string{"href"}},
		{"data image", "![x](data:image/png;base64,AAAA)", []string{"[image : x]"}, []string{"<img", "href"}},
		{"remote image not fetched", "![la carte](https://exemple.fr/carte.png)",
			[]string{`<a href="https://exemple.fr/carte.png" rel="noopener noreferrer nofollow" class="md-image">[image : la carte]</a>`}, []string{"<img"}},
		{"relative link dropped", "[admin](/admin) [x](//evil.example/)", []string{"admin"}, []string{"href"}},
		{"autolink", "<https://exemple.fr> et www.exemple.fr", []string{`<a href="https://exemple.fr" rel="noopener noreferrer nofollow">https://exemple.fr</a>`,
			`<a href="http://www.exemple.fr" rel="noopener noreferrer nofollow">www.exemple.fr</a>`}, nil},
		{"mail", "<eleve@exemple.fr>", []string{`href="mailto:eleve@exemple.fr"`}, nil},
		{"reference link", "[x][r]\n\n[r]: javascript:alert(1)", []string{"x"}, []string{"href"}},
		{"html entity trick", "[x](&#106;avascript:alert(1))", []string{"x"}, []string{"href"}},
		{"table", "| a | b |\n|:--|--:|\n| 1 | 2 |", []string{"<table>", `<th align="left">a</th>`}, []string{"style"}},
		{"code keeps text", "`<b>x</b>`", []string{"<code>&lt;b&gt;x&lt;/b&gt;</code>"}, []string{"<b>"}},
		{"attributes syntax not parsed", "# T {onclick=alert(1)}", []string{"{onclick=alert(1)}"}, []string{" onclick"}},
	} {
		out := string(Render(tc.src))
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q lacks %q", tc.name, out, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: %q holds %q", tc.name, out, n)
			}
		}
		if why := unsafeMarkup(out); why != "" {
			t.Errorf("%s: unsafe output (%s): %q", tc.name, why, out)
		}
	}
}

// FuzzRender: whatever a teacher writes, the rendered text has no script
// element, no event-handler attribute, no javascript: (or other non-web)
// address, no element outside the allowed set, and every link has rel=Rel.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"# Titre\n\n[lien](https://exemple.fr) <script>alert(1)</script>",
		"<img src=x onerror=alert(1)>", "[a](javascript:alert(1))", "![a](data:image/png;base64,AA)",
		"<a href=\"javascript:x\">y</a>", "| a |\n|---|\n| <b onmouseover=x> |", "- [x] fait\n- [ ] pas fait",
		"<https://exemple.fr/\"onmouseover=\"x>", "[x](https://exemple.fr/\" onclick=\"x)", "<!-- -->", "<svg/onload=alert(1)>",
		"www.exemple.fr/<script>", "[a](<javascript&#58;alert(1)>)", "<div>\n<script>\n</script>\n</div>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := string(Render(src))
		if why := unsafeMarkup(out); why != "" {
			t.Fatalf("unsafe output (%s) for %q: %q", why, src, out)
		}
	})
}
