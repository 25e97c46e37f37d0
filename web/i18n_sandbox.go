package web

// The dev sandbox's checkout page (issue 13): a runner walking the journey
// in dev mode pays here, so it reads in the page's language like the rest.
// Merged into messages at start like the other blocks.
var sandboxMessages = map[string]map[string]string{
	"en": {
		"sandbox.title":   "Test checkout",
		"sandbox.help":    "This is the built-in test payment provider (dev mode). No money moves. Choosing \"Authorize payment\" places an authorization hold that Startline captures only while your offer still holds the place.",
		"sandbox.payment": "Payment",
		"sandbox.amount":  "Amount",
		"sandbox.pay":     "Authorize payment",
		"sandbox.fail":    "Card declined",
		"sandbox.cancel":  "Cancel",
	},
	"ko": {
		"sandbox.title":   "테스트 결제",
		"sandbox.help":    "개발 모드의 내장 테스트 결제입니다. 실제로 돈이 오가지 않습니다. \"결제 승인\"을 누르면 승인 보류가 걸리고, 제안받은 자리가 유지되는 동안에만 Startline이 결제를 확정합니다.",
		"sandbox.payment": "결제",
		"sandbox.amount":  "금액",
		"sandbox.pay":     "결제 승인",
		"sandbox.fail":    "카드 거절",
		"sandbox.cancel":  "취소",
	},
}

func init() { mergeMessages(messages, sandboxMessages) }
