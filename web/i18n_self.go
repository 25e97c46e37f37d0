package web

// Issue 13, i13-self: "my entries", withdraw, erase, appeal and the
// reviewers' appeals page. Kept in a file of their own and merged into
// messages and codeMessages at start, a key defined there first winning,
// so parallel branches that add the same generic keys (the withdrawn
// status) merge without a duplicate-key compile error.
var selfMessages = map[string]map[string]string{
	"en": {
		"entry.state.withdrawn":  "Withdrawn",
		"entry.status.withdrawn": "Withdrawn: this entry has left the draw.",

		"me.nav":    "My entries",
		"me.title":  "My entries",
		"me.intro":  "Lost your status link? Give the e-mail address you applied with. We send a code to it, and the code shows every entry of that address with its status link.",
		"me.send":   "Send me a code",
		"me.sent":   "If %s has entries, a code is on its way. It is valid for 10 minutes and works once.",
		"me.code":   "Code from the e-mail",
		"me.show":   "Show my entries",
		"me.resend": "Send a new code",
		"me.none":   "No entries with personal data are kept for this address.",
		"me.again":  "Look up another address",
		"me.count":  "Entries of %s",

		"self.cancel":                "No, go back",
		"self.withdraw.title":        "Withdraw",
		"self.withdraw.help":         "You can withdraw until registration closes. The entry leaves the draw, and you cannot apply to this race again with the same details.",
		"self.withdraw.button":       "Withdraw this entry…",
		"self.withdraw.confirm":      "Withdraw your entry?",
		"self.withdraw.confirm.text": "Your entry for %s (%s) will leave the draw. This cannot be undone, and you cannot apply to this race again.",
		"self.withdraw.yes":          "Yes, withdraw my entry",
		"self.withdrawn":             "Your entry is withdrawn. A confirmation is on its way by e-mail.",
		"self.erase.title":           "Erase my data",
		"self.erase.help":            "Your name, e-mail address, phone number, birth date and device details are replaced now. The entry's status and its line in published draw lists stay, without your data; before the draw the entry also leaves it. Not possible while you hold or pay for a slot.",
		"self.erase.button":          "Erase my data…",
		"self.erase.confirm":         "Erase your personal data?",
		"self.erase.confirm.text":    "The personal data of your entry for %s is replaced now and cannot be restored. Keep this page's link to see the entry's status.",
		"self.erase.yes":             "Yes, erase my data",
		"self.erased":                "The personal data of this entry has been erased.",
		"self.erase.held":            "While you hold or pay for a slot your data cannot be erased: decline the offer or give the slot back first.",

		"appeal.title":              "Why your entry was rejected",
		"appeal.reasons":            "What the checks found:",
		"appeal.reason.review":      "A reviewer looked at the entry and found it did not meet the rule of one entry per person.",
		"appeal.form.message":       "Your appeal",
		"appeal.form.help":          "You can appeal once, in up to %d characters: say why the entry should be let back in. A reviewer reads it before the draw.",
		"appeal.form.submit":        "Send my appeal",
		"appeal.filed":              "Your appeal has been received. A reviewer decides before the draw, and you will be told by e-mail.",
		"appeal.yours":              "Your appeal",
		"appeal.open":               "Waiting for a reviewer",
		"appeal.outcome.reinstated": "Accepted: your entry is back in the draw.",
		"appeal.outcome.upheld":     "Not accepted: the rejection stands.",
		"appeal.note":               "Reviewer's note",
		"appeal.closed":             "Appeals are taken only until the entries are frozen for the draw.",

		"appeals.link":      "Appeals of rejections",
		"appeals.title":     "Appeals",
		"appeals.help":      "Rejected runners' appeals. Reinstating puts the entry back into the draw as an approval would; upholding keeps the rejection (write why: the runner is told).",
		"appeals.none":      "No appeals for this event.",
		"appeals.reasons":   "Reasons",
		"appeals.noreason":  "rejected by a reviewer",
		"appeals.risk":      "Risk score",
		"appeals.linked":    "Entries sharing a key",
		"appeals.sent":      "Sent",
		"appeals.decision":  "Decision",
		"appeals.reinstate": "Reinstate",
		"appeals.uphold":    "Uphold the rejection",
		"appeals.note":      "Note to the runner (required to uphold)",
		"appeals.submit":    "Record the decision",
		"appeals.decided":   "Decision recorded.",
		"appeals.by":        "Decided by",
	},
	"ko": {
		"entry.state.withdrawn":  "신청 취소됨",
		"entry.status.withdrawn": "신청 취소: 이 신청은 추첨에서 빠졌습니다.",

		"me.nav":    "내 신청 내역",
		"me.title":  "내 신청 내역",
		"me.intro":  "상태 링크를 잃어버리셨나요? 신청할 때 쓴 이메일 주소를 입력하세요. 그 주소로 인증 코드를 보내 드리며, 코드를 입력하면 그 주소의 모든 신청과 상태 링크가 표시됩니다.",
		"me.send":   "인증 코드 받기",
		"me.sent":   "%s 주소로 신청한 내역이 있으면 인증 코드를 보냈습니다. 10분 동안 한 번만 쓸 수 있습니다.",
		"me.code":   "메일로 받은 인증 코드",
		"me.show":   "내 신청 보기",
		"me.resend": "새 코드 받기",
		"me.none":   "이 주소로 보관 중인 신청이 없습니다.",
		"me.again":  "다른 주소로 조회",
		"me.count":  "%s 주소의 신청",

		"self.cancel":                "아니요, 돌아가기",
		"self.withdraw.title":        "신청 취소",
		"self.withdraw.help":         "접수 마감 전까지 신청을 취소할 수 있습니다. 취소한 신청은 추첨에서 빠지며, 같은 정보로 이 대회에 다시 신청할 수 없습니다.",
		"self.withdraw.button":       "이 신청 취소하기…",
		"self.withdraw.confirm":      "신청을 취소할까요?",
		"self.withdraw.confirm.text": "%s (%s) 신청이 추첨에서 빠집니다. 되돌릴 수 없으며, 이 대회에 다시 신청할 수 없습니다.",
		"self.withdraw.yes":          "네, 신청을 취소합니다",
		"self.withdrawn":             "신청이 취소되었습니다. 확인 메일을 보냈습니다.",
		"self.erase.title":           "내 개인정보 삭제",
		"self.erase.help":            "이름, 이메일 주소, 전화번호, 생년월일, 기기 정보를 지금 지웁니다. 신청 상태와 공개된 추첨 명단의 줄은 개인정보 없이 남으며, 추첨 전이면 신청도 추첨에서 빠집니다. 참가 자리를 받았거나 결제 중이면 지울 수 없습니다.",
		"self.erase.button":          "내 개인정보 삭제하기…",
		"self.erase.confirm":         "개인정보를 삭제할까요?",
		"self.erase.confirm.text":    "%s 신청의 개인정보를 지금 지우며 복구할 수 없습니다. 신청 상태를 보려면 이 페이지 링크를 보관하세요.",
		"self.erase.yes":             "네, 개인정보를 삭제합니다",
		"self.erased":                "이 신청의 개인정보를 삭제했습니다.",
		"self.erase.held":            "참가 자리를 받았거나 결제 중에는 개인정보를 지울 수 없습니다. 먼저 제안을 거절하거나 자리를 반납하세요.",

		"appeal.title":              "신청이 거절된 이유",
		"appeal.reasons":            "확인 결과:",
		"appeal.reason.review":      "검토자가 신청을 확인한 결과 1인 1신청 규칙에 맞지 않는다고 판단했습니다.",
		"appeal.form.message":       "이의 신청 내용",
		"appeal.form.help":          "한 번, %d자 이내로 이의를 신청할 수 있습니다. 신청을 다시 받아야 하는 이유를 적어 주세요. 검토자가 추첨 전에 읽습니다.",
		"appeal.form.submit":        "이의 신청 보내기",
		"appeal.filed":              "이의 신청을 받았습니다. 검토자가 추첨 전에 결정하며, 결과는 메일로 알려 드립니다.",
		"appeal.yours":              "내 이의 신청",
		"appeal.open":               "검토 대기 중",
		"appeal.outcome.reinstated": "받아들여짐: 신청이 다시 추첨에 들어갑니다.",
		"appeal.outcome.upheld":     "받아들여지지 않음: 거절이 유지됩니다.",
		"appeal.note":               "검토자 메모",
		"appeal.closed":             "이의 신청은 추첨 명단이 확정되기 전까지만 받습니다.",

		"appeals.link":      "거절 이의 신청",
		"appeals.title":     "이의 신청",
		"appeals.help":      "거절된 신청자의 이의 신청입니다. 복원하면 승인과 같이 신청이 추첨에 다시 들어가고, 유지하면 거절이 그대로 남습니다 (이유를 적어 주세요: 신청자에게 전달됩니다).",
		"appeals.none":      "이 대회의 이의 신청이 없습니다.",
		"appeals.reasons":   "사유",
		"appeals.noreason":  "검토자가 거절",
		"appeals.risk":      "위험 점수",
		"appeals.linked":    "정보를 공유하는 신청",
		"appeals.sent":      "보낸 시각",
		"appeals.decision":  "결정",
		"appeals.reinstate": "신청 복원",
		"appeals.uphold":    "거절 유지",
		"appeals.note":      "신청자에게 전할 메모 (거절 유지 시 필수)",
		"appeals.submit":    "결정 기록",
		"appeals.decided":   "결정을 기록했습니다.",
		"appeals.by":        "결정한 사람",
	},
}

// selfCodeMessages are the pages' words for this task's error codes.
var selfCodeMessages = map[string]map[string]string{
	"en": {
		"entry_holds_slot": "This entry holds or pays for a slot: decline the offer or give the slot back first.",
		"appeal_closed":    "Appeals are taken and decided only until the entries are frozen for the draw.",
		"appeal_exists":    "This entry has appealed already.",
	},
	"ko": {
		"entry_holds_slot": "이 신청은 참가 자리를 받았거나 결제 중입니다. 먼저 제안을 거절하거나 자리를 반납하세요.",
		"appeal_closed":    "이의 신청은 추첨 명단이 확정되기 전까지만 받고 결정합니다.",
		"appeal_exists":    "이 신청은 이미 이의를 신청했습니다.",
	},
}

func init() {
	merge := func(dst, src map[string]map[string]string) {
		for lang, m := range src {
			for k, v := range m {
				if _, ok := dst[lang][k]; !ok {
					dst[lang][k] = v
				}
			}
		}
	}
	merge(messages, selfMessages)
	merge(codeMessages, selfCodeMessages)
}
