// Package api serves Startline's JSON HTTP API (../shared/API.md) with Gin:
// runner routes, organizer routes behind staff bearer tokens, dev-only
// routes, and health checks. Handlers decode, pass the request gate
// (internal/gate), call the service and encode; coded errors become HTTP
// statuses through the one table in internal/httpkit.
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// writeError answers with the error's code; internal errors are logged once
// and answered without detail, unavailable ones (a dependency down) with
// Retry-After and logged once per interval.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	if httpkit.ClientGone(c, err) {
		return
	}
	var e *lottery.Error
	if !errors.As(err, &e) {
		log.ErrorContext(c.Request.Context(), "internal error", "method", c.Request.Method, "route", c.FullPath(), "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError,
			errorBody{errorDetail{Code: lottery.CodeInternal, Message: "internal error"}})
		return
	}
	if e.Code == lottery.CodeUnavailable {
		httpkit.Unavailable(c, log, err) // Retry-After; the outage is logged once per interval
	}
	c.AbortWithStatusJSON(httpkit.StatusOf(e), errorBody{errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}

// decodeJSON reads a JSON body into v, turning type errors into field
// errors. It is the edge for JSON: the body must be UTF-8, every string
// decoded into v must be text (checkDecoded names the field that is not),
// and free-form JSON in v is re-encoded so the database accepts it.
func decodeJSON(body []byte, v any) error {
	if len(body) == 0 {
		return &lottery.Error{Code: lottery.CodeInvalidJSON, Message: "send a JSON object body"}
	}
	if !utf8.Valid(body) {
		return &lottery.Error{Code: lottery.CodeInvalidJSON, Message: "the body is not UTF-8 text"}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return lottery.Fieldf(te.Field, "expected %s", te.Type.String())
		}
		return &lottery.Error{Code: lottery.CodeInvalidJSON, Message: "the body is not valid JSON: " + err.Error()}
	}
	return checkDecoded(v)
}

// bind reads the JSON body into v, answering 400/422 itself on failure. It
// returns the raw body (apply hashes it for idempotency) and whether to go on.
func (h *handler) bind(c *gin.Context, v any) ([]byte, bool) {
	body, err := readBody(c)
	if err == nil {
		err = decodeJSON(body, v)
	}
	if err != nil {
		writeError(c, h.Log, err)
		return nil, false
	}
	return body, true
}
