package httpkit

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery/exports"
)

// StreamExport answers an opened export (the API's and the console's
// download routes): 200 text/csv saved under the export's file name, the
// UTF-8 byte order mark unless ?bom=0, rows streamed as they are read. A
// failure once the first bytes are out can only cut the download short;
// it is logged without any of the content.
func StreamExport(c *gin.Context, log *slog.Logger, ex *exports.Service, x exports.Export) {
	c.Header("Content-Type", exports.ContentType)
	c.Header("Content-Disposition", x.ContentDisposition())
	c.Header("Cache-Control", "private, no-store")
	c.Status(http.StatusOK)
	if _, err := ex.Write(c.Request.Context(), x, c.Writer, c.Query("bom") != "0"); err != nil {
		log.WarnContext(c.Request.Context(), "export cut short", "event", x.Event.Slug, "file", x.File, "err", err)
	}
}
