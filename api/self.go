package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
)

// Runner self-service (issue 13): "my entries" by an e-mailed code,
// withdraw, erase and appeal with the receipt token.

type meOTPBody struct {
	Email string `json:"email"`
}

// meOTP mails a "my entries" code: 202 {"sent":true} for any address that
// parses, with or without entries (no enumeration). The gate counts the
// request only once the address parses; a refusal spends nothing.
func (h *handler) meOTP(c *gin.Context) {
	var b meOTPBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if err := h.Self.CheckAddress(b.Email); err != nil {
		writeError(c, h.Log, err)
		return
	}
	mail, err := h.gate.MeCode(c, b.Email)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	if mail {
		err = h.Self.RequestCode(c.Request.Context(), b.Email, c.Query("lang"))
	}
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"sent": true})
}

type meEntriesBody struct {
	Email string `json:"email"`
	OTP   string `json:"otp"`
}

type myEntryJSON struct {
	EntryID      string `json:"entry_id"`
	Event        string `json:"event"` // the slug, as elsewhere in the API
	EventName    string `json:"event_name"`
	Status       string `json:"status"`
	StatusURL    string `json:"status_url"` // absolute, on STARTLINE_PUBLIC_URL when set
	SubQueue     string `json:"subqueue"`
	SubQueueName string `json:"subqueue_name"`
}

// meEntries lists the address's entries for its code.
func (h *handler) meEntries(c *gin.Context) {
	var b meEntriesBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if err := h.gate.MeEntries(c, b.Email); err != nil {
		writeError(c, h.Log, err)
		return
	}
	es, err := h.Self.Entries(c.Request.Context(), b.Email, b.OTP)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]myEntryJSON, 0, len(es))
	for _, e := range es {
		link, err := h.Site.Absolute(c.Request, e.StatusPath)
		if err != nil {
			writeError(c, h.Log, err)
			return
		}
		out = append(out, myEntryJSON{EntryID: e.Entry.ID, Event: e.Event.Slug, EventName: e.Event.Name,
			Status: string(e.Entry.Status), StatusURL: link, SubQueue: e.Entry.SubQueue,
			SubQueueName: e.Event.SubQueueName(e.Entry.SubQueue)})
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"entries": out})
}

// withdraw takes an entry out before close (API.md: 409
// registration_closed after it, although the apply route answers that code
// with 403: the withdrawal conflicts with the event's state).
func (h *handler) withdraw(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if err := h.Self.Withdraw(c.Request.Context(), c.Param("id"), b.Token); err != nil {
		if errors.Is(err, lottery.ErrClosed) {
			c.AbortWithStatusJSON(http.StatusConflict, errorBody{errorDetail{Code: lottery.CodeRegistrationClosed,
				Message: "registration is closed; an entry can be withdrawn only before it closes"}})
			return
		}
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": string(lottery.EntryWithdrawn)})
}

// erase replaces the entry's personal data now (409 entry_holds_slot while
// it holds or pays a slot).
func (h *handler) erase(c *gin.Context) {
	var b tokenBody
	if _, ok := h.bind(c, &b); !ok {
		return
	}
	if err := h.Self.Erase(c.Request.Context(), c.Param("id"), b.Token); err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"erased": true})
}
