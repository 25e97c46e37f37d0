package httpkit

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestClientGone(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		want   bool
		status int
	}{
		{"client left, query canceled", gone, fmt.Errorf("entry status: %w", context.Canceled), true, StatusClientClosed},
		{"client here, canceled elsewhere", context.Background(), context.Canceled, false, 200},
		{"client left, other error", gone, errors.New("boom"), false, 200},
		{"deadline, not a cancel", gone, context.DeadlineExceeded, false, 200},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("GET", "/api/v1/entries/x", nil).WithContext(tt.ctx)
		if got := ClientGone(c, tt.err); got != tt.want {
			t.Errorf("%s: ClientGone = %v, want %v", tt.name, got, tt.want)
		}
		if c.Writer.Status() != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, c.Writer.Status(), tt.status)
		}
	}
}
