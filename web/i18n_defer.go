package web

// i15-defer (issue 15: deferral to the next edition): the status page's
// "Defer to next year" section and confirmation, the deferred status, the
// event page's note on slots deferred runners hold, and the refusals.
var deferMessages = map[string]map[string]string{
	"en": {
		"defer.title":           "Defer to next year",
		"defer.explain":         "Can't run this year? Until %s you can defer your confirmed place to the next edition of this race: you will not run this year, and a place is held for you next year without a draw. This cannot be undone.",
		"defer.fee":             "Deferral fee: %s",
		"defer.free":            "Deferral is free.",
		"defer.start":           "Defer to next year…",
		"defer.held":            "You deferred to the next edition. A place is held for you there; your entry is made when the next edition is announced.",
		"defer.used":            "You deferred to the next edition, and your confirmed entry there is made.",
		"defer.confirm.title":   "Defer your place to next year?",
		"defer.confirm.what":    "You are deferring your confirmed place in %s to the next edition of this race.",
		"defer.confirm.undo":    "You will not run this year and cannot have this year's place back. Next year's place is held for you without a draw.",
		"defer.confirm.yes":     "Yes, defer to next year",
		"defer.confirm.no":      "No, keep my place this year",
		"odds.deferred":         "%s slots are held by runners who deferred from the previous edition; the draw gives out %s.",
		"entry.status.deferred": "Deferred: your place is held in the next edition of this race.",
		"entry.state.deferred":  "Deferred",
		"data.status.deferred":  "Deferred",
	},
	"ko": {
		"defer.title":           "내년 대회로 연기하기",
		"defer.explain":         "올해 참가하기 어려우신가요? %s까지 확정된 자리를 이 대회의 다음 회차로 연기할 수 있습니다. 올해는 달리지 않으며, 내년 자리는 추첨 없이 확보됩니다. 되돌릴 수 없습니다.",
		"defer.fee":             "연기 수수료: %s",
		"defer.free":            "연기 수수료는 없습니다.",
		"defer.start":           "내년으로 연기하기…",
		"defer.held":            "다음 회차로 연기하셨습니다. 그곳에 자리가 확보되어 있으며, 다음 회차가 발표되면 신청이 만들어집니다.",
		"defer.used":            "다음 회차로 연기하셨고, 그곳의 확정 신청이 만들어졌습니다.",
		"defer.confirm.title":   "자리를 내년으로 연기할까요?",
		"defer.confirm.what":    "%s 확정 자리를 이 대회의 다음 회차로 연기합니다.",
		"defer.confirm.undo":    "올해는 달리지 않으며 올해 자리는 되찾을 수 없습니다. 내년 자리는 추첨 없이 확보됩니다.",
		"defer.confirm.yes":     "네, 내년으로 연기합니다",
		"defer.confirm.no":      "아니요, 올해 자리를 유지합니다",
		"odds.deferred":         "지난 회차에서 연기한 주자가 %s자리를 갖고 있어 추첨 정원은 %s입니다.",
		"entry.status.deferred": "연기됨: 이 대회의 다음 회차에 자리가 확보되어 있습니다.",
		"entry.state.deferred":  "연기됨",
		"data.status.deferred":  "연기함",
	},
}

var deferCodeMessages = map[string]map[string]string{
	"en": {
		"deferral_closed": "This event takes no deferrals now.",
		"deferral_full":   "As many runners of this group as the event allows have deferred already.",
		"not_confirmed":   "Only a confirmed place can be deferred.",
		"no_next_edition": "This race has no next edition to defer to.",
	},
	"ko": {
		"deferral_closed": "지금은 이 대회의 연기 신청을 받지 않습니다.",
		"deferral_full":   "이 그룹에서 대회가 허용하는 만큼의 주자가 이미 연기했습니다.",
		"not_confirmed":   "확정된 자리만 연기할 수 있습니다.",
		"no_next_edition": "이 대회에는 연기할 다음 회차가 없습니다.",
	},
}

func init() {
	mergeMessages(messages, deferMessages)
	mergeMessages(codeMessages, deferCodeMessages)
}
