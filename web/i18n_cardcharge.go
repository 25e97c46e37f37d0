package web

// cardChargeMessages are the card-on-file charge's words (issue 15): the
// status page's line and the organizer's counts.
var cardChargeMessages = map[string]map[string]string{
	"en": {
		"cardcharge.paid":               "Paid with %s •%s",
		"cardcharge.paid.card":          "Paid with your saved card •%s",
		"cardcharge.charging":           "We are charging your saved card.",
		"cardcharge.charging.help":      "The %s card ending %s that you saved when applying is charged in the next minutes. You will get a mail either way. You may still decline the place, or pay now with another card.",
		"cardcharge.charging.help.card": "The card ending %s that you saved when applying is charged in the next minutes. You will get a mail either way. You may still decline the place, or pay now with another card.",
		"cardcharge.failed":             "We could not charge your card. Pay by %s to keep your place.",
		"cardcharge.failed.help":        "Use the pay button below, with the same card or another one.",
		"console.cards.title":           "Saved cards",
		"console.cards.charged":         "Charged",
		"console.cards.pending":         "Waiting for their turn",
		"console.cards.retrying":        "Retrying",
		"console.cards.fallback":        "Fell back to the pay link",
		"console.cards.help":            "Selected runners who saved a card are charged right after the results are published, at the event's rate. A card that cannot be charged is tried again; after that the runner is mailed the pay link and pays before the hold ends.",
	},
	"ko": {
		"cardcharge.paid":               "%s •%s 카드로 결제 완료",
		"cardcharge.paid.card":          "등록된 카드 •%s로 결제 완료",
		"cardcharge.charging":           "등록하신 카드로 결제하는 중입니다.",
		"cardcharge.charging.help":      "신청할 때 등록하신 %s 카드(끝자리 %s)로 곧 결제됩니다. 결과는 어느 쪽이든 메일로 알려 드립니다. 그 전에 자리를 거절하거나 다른 카드로 지금 결제할 수도 있습니다.",
		"cardcharge.charging.help.card": "신청할 때 등록하신 카드(끝자리 %s)로 곧 결제됩니다. 결과는 어느 쪽이든 메일로 알려 드립니다. 그 전에 자리를 거절하거나 다른 카드로 지금 결제할 수도 있습니다.",
		"cardcharge.failed":             "등록된 카드로 결제하지 못했습니다. 자리를 지키려면 %s까지 결제하세요.",
		"cardcharge.failed.help":        "아래 결제 버튼을 눌러 같은 카드나 다른 카드로 결제하세요.",
		"console.cards.title":           "등록 카드 결제",
		"console.cards.charged":         "결제 완료",
		"console.cards.pending":         "결제 대기",
		"console.cards.retrying":        "재시도 중",
		"console.cards.fallback":        "결제 링크로 전환",
		"console.cards.help":            "카드를 등록한 당첨자는 결과 발표 직후 대회에 정한 속도로 결제됩니다. 결제되지 않은 카드는 다시 시도하고, 그래도 안 되면 참가자에게 결제 링크를 메일로 보내 예약 기한 안에 직접 결제하게 합니다.",
	},
}

func init() { mergeMessages(messages, cardChargeMessages) }
