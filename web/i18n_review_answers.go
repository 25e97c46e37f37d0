package web

// The reviewer's entry page shows the runner's answers to the event's
// questions (a club, a shirt size, an emergency contact), which often tell
// a farm from a household at a glance.
var reviewAnswersMessages = map[string]map[string]string{
	"en": {"review.answers": "Answers to the event's questions"},
	"ko": {"review.answers": "대회 질문에 대한 답변"},
}

func init() { mergeMessages(messages, reviewAnswersMessages) }
