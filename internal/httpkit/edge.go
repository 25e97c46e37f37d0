package httpkit

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/textin"
	"github.com/startline/startline/lottery"
)

// The edge: every string from outside is checked here once, before any
// handler reads it (textin holds the rules). Path parameters that are not
// text are 404 (no such thing); query values, form values and the headers
// the service keeps are invalid_field naming the field; headers that only
// feed scoring are made valid and cut, never refused. JSON bodies are
// checked by the API where it decodes them (api.decodeJSON).

// Limits on what the edge passes on.
const (
	maxParamBytes = 512 // slugs, keys and ids are far shorter; longer is no such thing
	// MaxUserAgent is what the service keeps of a User-Agent.
	MaxUserAgent      = 512
	maxAcceptLanguage = 256
	maxUAPlatform     = 64
	maxFieldName      = 64 // a refused field's name is echoed back, cut to this
)

// CheckInput returns the edge middleware. fail answers a refusal in the
// adapter's own way (JSON for the API, a page for the site). With forms, an
// urlencoded or multipart body is parsed and its values checked too (the
// pages); the API checks its JSON bodies where it decodes them.
func CheckInput(fail func(*gin.Context, error), forms bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		err := checkRequest(c.Request, c.Params)
		if err == nil && forms {
			err = checkForm(c.Request)
		}
		if err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}

// checkRequest checks the path parameters, the query and the headers the
// service reads, cleaning in place those it does not refuse.
func checkRequest(r *http.Request, params gin.Params) error {
	for _, p := range params {
		if len(p.Value) > maxParamBytes || textin.Check(p.Value) != nil {
			return lottery.ErrNotFound
		}
	}
	if err := checkValues(r.URL.Query()); err != nil {
		return err
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" && textin.Check(k) != nil {
		return lottery.Fieldf("Idempotency-Key", "use printable text")
	}
	cleanHeader(r.Header, "User-Agent", MaxUserAgent)
	cleanHeader(r.Header, "Accept-Language", maxAcceptLanguage)
	cleanHeader(r.Header, "Sec-CH-UA-Platform", maxUAPlatform)
	return nil
}

// cleanHeader replaces a header the service reads but does not refuse with
// its valid, cut form.
func cleanHeader(h http.Header, name string, n int) {
	if v := h.Get(name); v != "" {
		if c := textin.Clean(v, n); c != v {
			h.Set(name, c)
		}
	}
}

// checkForm parses a form body (as the handlers' PostForm would) and checks
// every value.
func checkForm(r *http.Request) error {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		_ = r.ParseForm() // a malformed pair is dropped, as PostForm always did
	case "multipart/form-data":
		_ = r.ParseMultipartForm(32 << 20)
	default:
		return nil
	}
	return checkValues(r.PostForm)
}

// checkValues refuses a query or form whose names or values are not text.
func checkValues(vs map[string][]string) error {
	for k, v := range vs {
		if textin.Check(k) != nil {
			return lottery.Fieldf(textin.Clean(k, maxFieldName), "use text: UTF-8 without control characters")
		}
		for _, s := range v {
			if textin.Check(s) != nil {
				return lottery.Fieldf(textin.Cut(k, maxFieldName), "use text: UTF-8 without control characters")
			}
		}
	}
	return nil
}
