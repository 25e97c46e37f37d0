package web

// i13-fees (issue 13: race details, fees, refund policy, give-back): the
// keys of the event page's race details and the status page's give-back,
// merged into messages and codeMessages at start. A key another block
// already defines is left as that block has it.
var feesMessages = map[string]map[string]string{
	"en": {
		"fees.race.title":         "Race details",
		"fees.race.date":          "Race day",
		"fees.race.start":         "Start",
		"fees.race.place":         "Place",
		"fees.race.draw":          "Draw results expected",
		"fees.prices":             "Entry fees",
		"fees.free":               "Free",
		"fees.refund.title":       "Refund policy",
		"fees.refund.none":        "No refunds: a place you paid for is not refunded if you give it back.",
		"fees.refund.through":     "through %s",
		"fees.refund.before":      "before %s",
		"fees.refund.full":        "Given back %s: full refund.",
		"fees.refund.part":        "Given back %s: %d%% refunded.",
		"fees.refund.after":       "After that: no refund.",
		"fees.amount":             "Amount to pay",
		"giveback.title":          "Give back my place",
		"giveback.explain":        "Can't run after all? Give your place back and it goes to the next runner on the waitlist. This cannot be undone.",
		"giveback.refund_now":     "If you give it back now, you get back %s (%d%% of the %s you paid).",
		"giveback.refund_zero":    "If you give it back now, the refund policy gives no refund of the %s you paid.",
		"giveback.unpaid":         "You have not paid, so there is nothing to refund.",
		"giveback.start":          "Give back my place…",
		"giveback.confirm.title":  "Give back your place?",
		"giveback.confirm.what":   "You are giving back your place in %s.",
		"giveback.confirm.undo":   "Once given back, the place goes to the next runner on the waitlist and you cannot have it back.",
		"giveback.confirm.yes":    "Yes, give back my place",
		"giveback.confirm.no":     "No, keep my place",
		"giveback.done":           "You gave your place back; it went to the next runner on the waitlist.",
		"giveback.refunded":       "A refund of %s was sent to your payment method.",
		"giveback.refund_pending": "A refund of %s is owed to you and is being processed.",
		"giveback.norefund":       "No refund is due under the event's refund policy.",
		"entry.status.withdrawn":  "Withdrawn: this entry no longer holds or waits for a place.",
		"entry.state.withdrawn":   "Withdrawn",
	},
	"ko": {
		"fees.race.title":         "대회 정보",
		"fees.race.date":          "대회일",
		"fees.race.start":         "출발",
		"fees.race.place":         "장소",
		"fees.race.draw":          "추첨 결과 발표 예정",
		"fees.prices":             "참가비",
		"fees.free":               "무료",
		"fees.refund.title":       "환불 규정",
		"fees.refund.none":        "환불 불가: 결제한 자리를 반납해도 환불되지 않습니다.",
		"fees.refund.through":     "%s까지",
		"fees.refund.before":      "%s 전까지",
		"fees.refund.full":        "%s 반납: 전액 환불.",
		"fees.refund.part":        "%s 반납: %d%% 환불.",
		"fees.refund.after":       "그 이후: 환불 없음.",
		"fees.amount":             "결제 금액",
		"giveback.title":          "내 자리 반납하기",
		"giveback.explain":        "참가할 수 없게 되었나요? 자리를 반납하면 대기 명단의 다음 주자에게 넘어갑니다. 되돌릴 수 없습니다.",
		"giveback.refund_now":     "지금 반납하면 %[1]s(결제하신 %[3]s의 %[2]d%%)를 돌려받습니다.",
		"giveback.refund_zero":    "지금 반납하면 환불 규정에 따라 결제하신 %s은(는) 환불되지 않습니다.",
		"giveback.unpaid":         "아직 결제하지 않아 환불할 금액이 없습니다.",
		"giveback.start":          "자리 반납하기…",
		"giveback.confirm.title":  "자리를 반납할까요?",
		"giveback.confirm.what":   "%s 자리를 반납합니다.",
		"giveback.confirm.undo":   "반납한 자리는 대기 명단의 다음 주자에게 넘어가며 되찾을 수 없습니다.",
		"giveback.confirm.yes":    "네, 자리를 반납합니다",
		"giveback.confirm.no":     "아니요, 자리를 유지합니다",
		"giveback.done":           "자리를 반납했습니다. 자리는 대기 명단의 다음 주자에게 넘어갔습니다.",
		"giveback.refunded":       "%s을(를) 결제 수단으로 환불했습니다.",
		"giveback.refund_pending": "%s 환불이 처리 중입니다.",
		"giveback.norefund":       "대회 환불 규정에 따라 환불 금액이 없습니다.",
		"entry.status.withdrawn":  "철회됨: 이 신청은 더 이상 자리를 갖거나 기다리지 않습니다.",
		"entry.state.withdrawn":   "철회됨",
	},
}

var feesCodeMessages = map[string]map[string]string{
	"en": {
		"no_slot_held": "This entry holds no accepted or paid place to give back.",
		"terms_fixed":  "Prices, currency and the refund policy are fixed once registration opens.",
	},
	"ko": {
		"no_slot_held": "이 신청에는 반납할 수락되었거나 결제된 자리가 없습니다.",
		"terms_fixed":  "접수가 시작된 뒤에는 참가비, 통화, 환불 규정을 바꿀 수 없습니다.",
	},
}

func init() {
	mergeMessages(messages, feesMessages)
	mergeMessages(codeMessages, feesCodeMessages)
}
