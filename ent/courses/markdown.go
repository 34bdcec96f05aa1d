package courses

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// Rel is the rel attribute of every link of a rendered text: the page it
// opens gets no handle on ours, no referrer and no endorsement.
const Rel = "noopener noreferrer nofollow"

// md is the Markdown converter: CommonMark with GitHub's tables, strike
// through, task lists and bare addresses made links. Raw HTML stays off
// (no html.WithUnsafe); safeNodes below replaces goldmark's renderers for
// links, images and raw HTML.
var md = goldmark.New(
	goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.TaskList,
		// Alignment as an attribute: a style attribute would break the CSP.
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))),
	goldmark.WithRendererOptions(
		renderer.WithNodeRenderers(util.Prioritized(safeNodes{}, 100)),
	),
)

// Render turns a text item's Markdown into HTML that is safe to put in a
// page: raw HTML is shown as text (inert), links keep only http, https and
// mailto addresses and get rel=Rel, images become links to their address
// (never fetched: a remote image would tell a third party the child's
// address). Nothing else of the text becomes markup.
func Render(src string) template.HTML {
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		// Converting to a buffer does not fail; if it ever did, the text
		// is shown escaped rather than lost.
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(b.String())
}

// safeNodes renders the nodes whose default rendering could let a URL or
// markup through.
type safeNodes struct{}

func (safeNodes) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

// openLink writes <a href=… rel=…> for a safe address and reports whether
// it did; an unsafe one leaves only the link's text.
func openLink(w util.BufWriter, dest []byte, class string) bool {
	if !safeURL(string(dest), true) {
		return false
	}
	w.WriteString(`<a href="`)
	w.Write(util.EscapeHTML(util.URLEscape(dest, true)))
	w.WriteString(`" rel="` + Rel + `"`)
	if class != "" {
		w.WriteString(` class="` + class + `"`)
	}
	w.WriteByte('>')
	return true
}

func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	if entering {
		if openLink(w, n.Destination, "") {
			n.SetAttributeString("data-open", true)
		}
	} else if _, ok := n.AttributeString("data-open"); ok {
		w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	dest := n.URL(source)
	if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(dest), []byte("mailto:")) {
		dest = append([]byte("mailto:"), dest...)
	}
	open := openLink(w, dest, "")
	w.Write(util.EscapeHTML(n.Label(source)))
	if open {
		w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

// renderImage writes an image as a link to it, its description as the
// link's text.
func renderImage(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Image)
	if entering {
		if openLink(w, n.Destination, "md-image") {
			n.SetAttributeString("data-open", true)
		}
		w.WriteString("[image : ")
	} else {
		w.WriteString("]")
		if _, ok := n.AttributeString("data-open"); ok {
			w.WriteString("</a>")
		}
	}
	return ast.WalkContinue, nil
}

// renderRawHTML shows inline HTML as the text it is.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*ast.RawHTML)
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			w.Write(util.EscapeHTML(seg.Value(source)))
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock shows a block of HTML as preformatted text.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.HTMLBlock)
	if entering {
		w.WriteString(`<pre class="md-html"><code>`)
		for i := range n.Lines().Len() {
			line := n.Lines().At(i)
			w.Write(util.EscapeHTML(line.Value(source)))
		}
		return ast.WalkContinue, nil
	}
	if n.HasClosure() {
		w.Write(util.EscapeHTML(n.ClosureLine.Value(source)))
	}
	w.WriteString("</code></pre>\n")
	return ast.WalkContinue, nil
}

var _ renderer.NodeRenderer = safeNodes{}
