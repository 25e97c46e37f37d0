package httpkit

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"
)

// StatusClientClosed records a request whose client went away before the
// answer (nginx's 499): nobody reads it, and it is not the server's
// failure, so it is neither a 5xx in the metrics nor an error in the log.
const StatusClientClosed = 499

// ClientGone reports whether err ended the request because its client
// disconnected (the request's own context canceled, a runner leaving the
// page or a load tool closing its connections), and then aborts with 499.
func ClientGone(c *gin.Context, err error) bool {
	if !errors.Is(err, context.Canceled) || c.Request.Context().Err() == nil {
		return false
	}
	c.AbortWithStatus(StatusClientClosed)
	return true
}
