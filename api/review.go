package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/internal/gate"
	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/review"
)

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

// staffLogin checks password + TOTP, rate-limited by the gate, and
// sets the session cookie.
func (h *handler) staffLogin(c *gin.Context) {
	var b loginBody
	_, ok := h.bind(c, &b)
	if !ok {
		return
	}
	// A browser without a device cookie gets one now, and this login's
	// success makes it known (the console's login form sets it on GET).
	client := h.gate.Client(c)
	if client.DeviceID == "" {
		client.DeviceID = h.Guard.EnsureDevice(c.Writer, c.Request)
	}
	if err := h.gate.StaffLogin(c, b.Email, client); err != nil {
		writeError(c, h.Log, err)
		return
	}
	sess, err := h.Staff.Login(c.Request.Context(), b.Email, b.Password, b.OTP, client)
	if err != nil {
		if gate.StaffLoginFailure(err) { // only failures spend the login budgets
			if ferr := h.gate.StaffLoginFailed(c, b.Email, client); ferr != nil {
				h.Log.WarnContext(c.Request.Context(), "staff login failure not counted", "err", ferr)
			}
		}
		writeError(c, h.Log, err)
		return
	}
	h.Site.SetStaffCookie(c.Writer, c.Request, sess.Token, sess.ExpiresAt.Sub(h.Svc.Now()))
	c.JSON(http.StatusOK, gin.H{"email": sess.Account.Email, "role": sess.Account.Role, "expires_at": sess.ExpiresAt,
		"csrf_token": httpkit.CSRFToken(h.Guard.CookieKey, sess.Token)})
}

func (h *handler) staffLogout(c *gin.Context) {
	if ck, err := c.Cookie(httpkit.StaffCookie); err == nil {
		if !h.checkCSRF(c, ck) { // another site may not sign staff out either
			return
		}
		if err := h.Staff.Logout(c.Request.Context(), ck); err != nil {
			writeError(c, h.Log, err)
			return
		}
	}
	h.Site.ClearStaffCookie(c.Writer, c.Request)
	c.JSON(http.StatusOK, gin.H{"logged_out": true})
}

type reviewItemJSON struct {
	EntryID   string           `json:"entry_id"`
	RiskScore int              `json:"risk_score"`
	Reasons   []antibot.Reason `json:"reasons"`
	ClusterID string           `json:"cluster_id"`
	Status    string           `json:"status"`
	SubQueue  string           `json:"subqueue"`
	CreatedAt time.Time        `json:"created_at"`
}

func reviewItem(e lottery.Entry) reviewItemJSON {
	reasons := e.Risk.Reasons
	if reasons == nil {
		reasons = []antibot.Reason{}
	}
	return reviewItemJSON{EntryID: e.ID, RiskScore: e.Risk.Score, Reasons: reasons, ClusterID: e.ClusterID,
		Status: string(e.Status), SubQueue: e.SubQueue, CreatedAt: e.CreatedAt}
}

func (h *handler) reviewQueue(c *gin.Context) {
	ev, entries, err := h.Review.Queue(c.Request.Context(), staffOf(c), c.Query("event"),
		review.Filter{Reason: c.Query("reason"), ClusterID: c.Query("cluster")})
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	out := make([]reviewItemJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, reviewItem(e))
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, gin.H{"event": ev.Slug, "entries": out})
}

type reviewDetailJSON struct {
	reviewItemJSON
	Name         string           `json:"name"`
	Email        string           `json:"email"`
	EmailKey     string           `json:"email_key"`
	Phone        string           `json:"phone"`
	BirthDate    string           `json:"birth_date"`
	GroupCode    string           `json:"group_code"`
	Tickets      int              `json:"tickets"`
	ClientIP     string           `json:"client_ip"`
	UserAgent    string           `json:"user_agent"`
	DeviceID     string           `json:"device_id"`
	Fingerprint  string           `json:"fingerprint"`
	Signals      any              `json:"signals"`
	Network      networkJSON      `json:"network"`
	QueueJoin    any              `json:"queue_join,omitempty"` // the waiting-room join's assessment (ordered groups)
	OTPRequests  []otpRequestJSON `json:"otp_requests"`         // the address's code requests, newest first
	RulesVersion string           `json:"rules_version"`
	Linked       []reviewItemJSON `json:"linked"`
	// TicketsRecord is the record beside the runner's claim: the counted
	// editions and imported years, the claim, its note and state.
	TicketsRecord ticketsRecordJSON    `json:"tickets_record"`
	Record        lottery.TicketRecord `json:"record"`
	ClaimNote     string               `json:"claim_note,omitempty"`
}

// otpRequestJSON is one code request and its assessment; a refused one
// (mailed false) was answered like a mailed one.
type otpRequestJSON struct {
	RequestedAt  time.Time        `json:"requested_at"`
	Mailed       bool             `json:"mailed"`
	RiskScore    int              `json:"risk_score"`
	Decision     string           `json:"decision"`
	Reasons      []antibot.Reason `json:"reasons"`
	RulesVersion string           `json:"rules_version"`
}

// networkJSON is what the IP tables say of the entry's address now
// (IP geolocation by DB-IP, https://db-ip.com).
type networkJSON struct {
	Country string `json:"country"`
	Kind    string `json:"kind"` // "access", "hosting" or "relay"
	ASN     uint32 `json:"asn,omitempty"`
	Org     string `json:"org,omitempty"`
}

func (h *handler) reviewEntry(c *gin.Context) {
	d, err := h.Review.Entry(c.Request.Context(), staffOf(c), c.Param("id"))
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	e := d.Entry
	out := reviewDetailJSON{reviewItemJSON: reviewItem(e), Name: e.Name, Email: e.Email, EmailKey: e.EmailKey, Phone: e.Phone,
		BirthDate: e.BirthDate.Format(time.DateOnly), GroupCode: e.GroupCode, Tickets: e.Tickets, ClientIP: e.ClientIP,
		UserAgent: e.UserAgent, DeviceID: e.DeviceID, Fingerprint: e.Fingerprint, Signals: jsonOrNull(e.Signals),
		RulesVersion: e.Risk.RulesVersion, Linked: []reviewItemJSON{}, OTPRequests: []otpRequestJSON{},
		TicketsRecord: ticketsRecord(lottery.ExplainTickets(d.Event, e)), Record: e.TicketRecord, ClaimNote: e.ClaimNote}
	for _, o := range d.OTPRequests {
		reasons := o.Risk.Reasons
		if reasons == nil {
			reasons = []antibot.Reason{}
		}
		out.OTPRequests = append(out.OTPRequests, otpRequestJSON{RequestedAt: o.RequestedAt, Mailed: o.Mailed,
			RiskScore: o.Risk.Score, Decision: string(o.Risk.Decision), Reasons: reasons, RulesVersion: o.Risk.RulesVersion})
	}
	n := d.Network
	out.Network = networkJSON{Country: n.Country, Kind: cmp.Or(string(n.Kind), "access"), ASN: n.ASN, Org: n.Org}
	if d.QueueJoin != nil {
		out.QueueJoin = d.QueueJoin
	}
	for _, l := range d.Linked {
		out.Linked = append(out.Linked, reviewItem(l))
	}
	card, shared, err := h.Registration.ReviewCard(c.Request.Context(), e.ID) // issue 15: card on file
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.JSON(http.StatusOK, reviewCardDetail{reviewDetailJSON: out, Card: reviewCardView(card, shared)})
}

type decisionBody struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

func (h *handler) decide(c *gin.Context) {
	var b decisionBody
	_, ok := h.bind(c, &b)
	if !ok {
		return
	}
	changed, err := h.Review.Decide(c.Request.Context(), staffOf(c), c.Param("id"), b.Decision, b.Note)
	if err != nil {
		writeError(c, h.Log, err)
		return
	}
	if changed == nil {
		changed = []string{}
	}
	c.JSON(http.StatusOK, gin.H{"entry_id": c.Param("id"), "decision": b.Decision, "changed": changed})
}
