package web

// Card on file (issue 15, cards.go): the application's card step, the
// sandbox's hosted setup page, the entry and review pages' card, the
// console's Payment tab. Merged into messages at start like the other blocks.
var cardMessages = map[string]map[string]string{
	"en": {
		"card.legend":            "Save a card",
		"card.charged":           "This event keeps a card on file: if you are selected, this card is charged %s (the course price) automatically, right after the results are published. Nothing is charged if you are not selected.",
		"card.saved":             "%s •%s saved",
		"card.save":              "Save a card",
		"card.change":            "Use another card",
		"card.notice":            "Card on file: you save a card when you apply, and if you are selected it is charged the course price automatically.",
		"card.entry":             "Saved card",
		"card.erased":            "erased",
		"card.review.shared":     "saved for %d entries of this event",
		"card.error.missing":     "Save a card first: this event charges it automatically if you are selected.",
		"card.error.unconfirmed": "The card was not saved. Save it again.",
		"card.error.unknown":     "This card could not be found. Save it again.",
		"card.error.used":        "This saved card was used for another entry. Save the card again for this one.",
		"field.card_setup_id":    "Saved card",
		"field.card_number":      "Card number",
		"reason.shared_card":     "The same card pays for more entries than the event allows",

		"sandbox.setup.title":      "Test card",
		"sandbox.setup.help":       "This is the built-in test payment provider (dev mode). No money moves. Type one of the test cards below; each behaves the same way every time it is charged.",
		"sandbox.setup.cards":      "Test cards",
		"sandbox.setup.number":     "Number",
		"sandbox.setup.does":       "What happens when it is charged",
		"sandbox.setup.field":      "Card number",
		"sandbox.setup.field.help": "13 to 19 digits; spaces are fine.",
		"sandbox.setup.save":       "Save card",
		"sandbox.setup.back":       "Go back without saving",
		"sandbox.card.ok":          "Works: every charge succeeds",
		"sandbox.card.funds":       "Insufficient funds: declined, tried again later",
		"sandbox.card.processing":  "Processing error: declined, tried again later",
		"sandbox.card.declined":    "Declined: not tried again; you pay on the offer page",
		"sandbox.card.auth":        "Needs authentication: you pay on the offer page",
		"sandbox.card.invalid":     "Enter a card number of 13 to 19 digits, like 4242 4242 4242 4242.",

		"console.tab.cards":                    "Payment",
		"cards.console.title":                  "Card on file",
		"cards.console.help":                   "Runners save a card when they apply, and a selected runner's card is charged the course price right after the results are published. A card that cannot be charged falls back to the offer's pay link.",
		"cards.console.enabled":                "Runners save a card when applying",
		"cards.console.entries_per_card":       "Entries per card",
		"cards.console.entries_per_card.help":  "More entries with one card than this go to review. Default 1.",
		"cards.console.charge_per_minute":      "Charges per minute",
		"cards.console.charge_per_minute.help": "How fast selected runners are charged. Default 1200.",
		"cards.console.max_attempts":           "Attempts per charge",
		"cards.console.max_attempts.help":      "A declined charge is tried this many times before the pay link is sent. Default 3.",
		"cards.console.save":                   "Save",
		"cards.console.saved":                  "Saved.",
		"cards.console.locked":                 "Registration has opened: card on file can no longer be changed, since entries were taken on these terms.",
	},
	"ko": {
		"card.legend":            "카드 등록",
		"card.charged":           "이 대회는 카드를 등록해 둡니다. 당첨되면 결과 발표 직후 이 카드로 코스 참가비(%s)를 자동으로 결제합니다. 당첨되지 않으면 결제되지 않습니다.",
		"card.saved":             "%s •%s 등록됨",
		"card.save":              "카드 등록",
		"card.change":            "다른 카드 사용",
		"card.notice":            "카드 등록 대회: 신청할 때 카드를 등록하고, 당첨되면 코스 참가비가 자동으로 결제됩니다.",
		"card.entry":             "등록한 카드",
		"card.erased":            "삭제됨",
		"card.review.shared":     "이 대회 신청 %d건에 등록됨",
		"card.error.missing":     "먼저 카드를 등록하세요. 당첨되면 이 카드로 자동 결제됩니다.",
		"card.error.unconfirmed": "카드가 등록되지 않았습니다. 다시 등록하세요.",
		"card.error.unknown":     "카드를 찾을 수 없습니다. 다시 등록하세요.",
		"card.error.used":        "이 카드 등록은 다른 신청에 이미 쓰였습니다. 이 신청을 위해 카드를 다시 등록하세요.",
		"field.card_setup_id":    "등록한 카드",
		"field.card_number":      "카드 번호",
		"reason.shared_card":     "같은 카드가 대회가 허용하는 것보다 많은 신청에 쓰임",

		"sandbox.setup.title":      "테스트 카드",
		"sandbox.setup.help":       "개발 모드의 내장 테스트 결제입니다. 실제로 돈이 오가지 않습니다. 아래 테스트 카드 중 하나를 입력하세요. 각 카드는 결제할 때마다 같은 결과를 냅니다.",
		"sandbox.setup.cards":      "테스트 카드",
		"sandbox.setup.number":     "번호",
		"sandbox.setup.does":       "결제할 때 일어나는 일",
		"sandbox.setup.field":      "카드 번호",
		"sandbox.setup.field.help": "13~19자리 숫자. 띄어 써도 됩니다.",
		"sandbox.setup.save":       "카드 등록",
		"sandbox.setup.back":       "등록하지 않고 돌아가기",
		"sandbox.card.ok":          "정상: 결제가 항상 성공",
		"sandbox.card.funds":       "잔액 부족: 거절, 나중에 다시 시도",
		"sandbox.card.processing":  "처리 오류: 거절, 나중에 다시 시도",
		"sandbox.card.declined":    "거절: 다시 시도하지 않음, 제안 페이지에서 결제",
		"sandbox.card.auth":        "인증 필요: 제안 페이지에서 결제",
		"sandbox.card.invalid":     "4242 4242 4242 4242처럼 13~19자리 카드 번호를 입력하세요.",

		"console.tab.cards":                    "결제",
		"cards.console.title":                  "카드 등록",
		"cards.console.help":                   "신청자는 신청할 때 카드를 등록하고, 당첨자의 카드는 결과 발표 직후 코스 참가비로 결제됩니다. 결제할 수 없는 카드는 제안의 결제 링크로 넘어갑니다.",
		"cards.console.enabled":                "신청할 때 카드 등록 받기",
		"cards.console.entries_per_card":       "카드 한 장당 신청 수",
		"cards.console.entries_per_card.help":  "한 카드로 이보다 많이 신청하면 검토로 보냅니다. 기본 1.",
		"cards.console.charge_per_minute":      "분당 결제 수",
		"cards.console.charge_per_minute.help": "당첨자를 결제하는 속도입니다. 기본 1200.",
		"cards.console.max_attempts":           "결제 시도 횟수",
		"cards.console.max_attempts.help":      "거절된 결제를 이 횟수만큼 시도한 뒤 결제 링크를 보냅니다. 기본 3.",
		"cards.console.save":                   "저장",
		"cards.console.saved":                  "저장했습니다.",
		"cards.console.locked":                 "접수가 시작되어 카드 등록 설정을 바꿀 수 없습니다. 이미 이 조건으로 신청을 받았습니다.",
	},
}

var cardCodeMessages = map[string]map[string]string{
	"en": {
		"card_setup_used": "This saved card was used for another entry. Save the card again for this one.",
		"no_card_on_file": "This event does not save a card when applying.",
	},
	"ko": {
		"card_setup_used": "이 카드 등록은 다른 신청에 이미 쓰였습니다. 이 신청을 위해 카드를 다시 등록하세요.",
		"no_card_on_file": "이 대회는 신청할 때 카드를 등록하지 않습니다.",
	},
}

func init() {
	mergeMessages(messages, cardMessages)
	mergeMessages(codeMessages, cardCodeMessages)
}
