package web

// Closing the waitlist (lottery.ActionSettle): the console's step and its
// confirmation, the audit words, and what a runner still waiting reads.
var settleMessages = map[string]map[string]string{
	"en": {
		"console.action.settle":          "Close the waitlist",
		"console.action.settle.hint":     "Stop offering released places and tell everyone still waiting that no place is left.",
		"console.done.settle":            "The waitlist is closed. Runners still waiting are being told by e-mail.",
		"console.confirm.settle":         "From now on a place that is given back, declined or not paid in time is not offered to the waitlist again. Every runner still on the waitlist gets an e-mail saying no place is left for them. Offers already sent run until they are paid or expire. This cannot be undone.",
		"console.confirm.do.settle":      "Close the waitlist now",
		"console.log.event.settle":       "Closed the waitlist",
		"console.log.event.settled":      "Closed the waitlist",
		"entry.status.not_drawn":         "Not drawn: the waitlist is closed and no place reached your entry. Thank you for entering.",
		"console.detail.not_drawn_mails": "runners told no place is left",
	},
	"ko": {
		"console.action.settle":          "대기 명단 마감",
		"console.action.settle.hint":     "반환된 자리를 더 이상 제안하지 않고, 아직 대기 중인 모두에게 남은 자리가 없음을 알립니다.",
		"console.done.settle":            "대기 명단이 마감되었습니다. 아직 대기 중인 참가자에게 메일을 보내는 중입니다.",
		"console.confirm.settle":         "지금부터 반환·거절되거나 기한 안에 결제되지 않은 자리는 대기 명단에 다시 제안되지 않습니다. 대기 명단에 남은 모든 참가자에게 남은 자리가 없다는 메일이 발송됩니다. 이미 보낸 참가 제안은 결제되거나 만료될 때까지 유효합니다. 되돌릴 수 없습니다.",
		"console.confirm.do.settle":      "지금 대기 명단 마감",
		"console.log.event.settle":       "대기 명단을 마감했습니다",
		"console.log.event.settled":      "대기 명단을 마감했습니다",
		"entry.status.not_drawn":         "미당첨: 대기 명단이 마감되어 이번 신청에는 자리가 돌아가지 않았습니다. 신청해 주셔서 감사합니다.",
		"console.detail.not_drawn_mails": "남은 자리가 없다고 안내한 참가자",
	},
}

func init() { mergeMessages(messages, settleMessages) }
