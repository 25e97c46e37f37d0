package web

// Issue 13, i13-pages: the language switch, offer states, the status link,
// the decline confirmation, a declined card, the form without JavaScript
// and the payment page. Kept in a file of their own and merged into
// messages at start (a key already there wins), so branches adding keys in
// parallel merge without touching each other's lines.
var pagesMessages = map[string]map[string]string{
	"en": {
		"nojs.before":             "JavaScript is off. You can still apply: without the automatic browser check, a person reviews your application before the draw (reason: no browser check).",
		"nojs.code":               "JavaScript is off, so the automatic browser check cannot run. You can still submit: a person will check your application before the draw.",
		"offer.state.pending":     "Waiting for your answer",
		"offer.state.accepted":    "Accepted",
		"offer.state.paid":        "Paid",
		"offer.state.declined":    "Declined",
		"offer.state.expired":     "Expired",
		"offer.state.void":        "Cancelled",
		"pay.declined.title":      "Your card was declined.",
		"pay.declined.help":       "Nothing was charged and your slot is still held for you. Try another card (or ask your bank) before the hold ends at %s.",
		"pay.declined.retry":      "Pay with another card",
		"decline.open":            "Decline this place…",
		"decline.confirm":         "Declining gives your slot to the next runner on the waitlist. It cannot be undone.",
		"decline.yes":             "Yes, decline my place",
		"link.keep":               "Keep this link: it opens your entry's status. Anyone with the link can see the entry, so do not share it.",
		"link.copy":               "Copy link",
		"link.copied":             "Copied",
		"receipt.mailed":          "We also e-mailed this link to the address you confirmed.",
		"reason.no_browser_check": "No browser check (JavaScript off)",
		"stripe.title":            "Payment",
		"stripe.help":             "Your card is authorized now and charged only while your slot is held for you; if the hold ends first, the authorization is released.",
		"stripe.authorize":        "Authorize payment",
		"stripe.back":             "Back to my entry",
		"stripe.load_failed":      "The payment form could not be loaded. Go back to your entry and try again.",
	},
	"ko": {
		"nojs.before":             "JavaScript가 꺼져 있습니다. 그래도 신청할 수 있지만, 자동 브라우저 확인 없이 제출한 신청은 추첨 전에 담당자가 검토합니다(사유: 브라우저 확인 없음).",
		"nojs.code":               "JavaScript가 꺼져 있어 자동 브라우저 확인을 할 수 없습니다. 그래도 제출할 수 있으며, 신청서는 추첨 전에 담당자가 확인합니다.",
		"offer.state.pending":     "응답 대기",
		"offer.state.accepted":    "수락함",
		"offer.state.paid":        "결제 완료",
		"offer.state.declined":    "포기함",
		"offer.state.expired":     "만료",
		"offer.state.void":        "취소됨",
		"pay.declined.title":      "카드 결제가 거절되었습니다.",
		"pay.declined.help":       "결제된 금액은 없으며 자리는 계속 예약되어 있습니다. 예약 기한(%s) 전에 다른 카드로 다시 시도하거나 카드사에 문의하세요.",
		"pay.declined.retry":      "다른 카드로 결제",
		"decline.open":            "이 자리 포기하기…",
		"decline.confirm":         "포기하면 자리가 다음 대기자에게 넘어가며, 되돌릴 수 없습니다.",
		"decline.yes":             "네, 자리를 포기합니다",
		"link.keep":               "이 링크를 보관하세요. 신청 상태를 여는 링크이며, 링크가 있으면 누구나 신청 내용을 볼 수 있으니 공유하지 마세요.",
		"link.copy":               "링크 복사",
		"link.copied":             "복사했습니다",
		"receipt.mailed":          "이 링크를 인증한 이메일 주소로도 보내 드렸습니다.",
		"reason.no_browser_check": "브라우저 확인 없음 (JavaScript 꺼짐)",
		"stripe.title":            "결제",
		"stripe.help":             "지금은 카드 승인만 하고, 자리가 예약되어 있는 동안에만 결제됩니다. 예약 기한이 먼저 끝나면 승인이 취소됩니다.",
		"stripe.authorize":        "결제 승인",
		"stripe.back":             "내 신청으로 돌아가기",
		"stripe.load_failed":      "결제 양식을 불러오지 못했습니다. 내 신청으로 돌아가 다시 시도하세요.",
	},
}

func init() { mergeMessages(messages, pagesMessages) }
