package httpkit

import (
	"fmt"

	"github.com/gin-gonic/gin"
)

// NewEngine returns the Gin engine every server uses (the API and the pages
// mount on it): release mode, panic recovery, and X-Forwarded-For believed
// only from the trusted proxies (Gin trusts every proxy by default, which
// lets any client pick its own IP and escape per-IP limits).
func NewEngine(trustedProxies []string, mw ...gin.HandlerFunc) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.Use(mw...)
	if err := r.SetTrustedProxies(trustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	return r, nil
}
