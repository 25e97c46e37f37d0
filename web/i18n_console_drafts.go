package web

// Words of the draft's full edit (issue 14, i14-draftedit).
var draftMessages = map[string]map[string]string{
	"en": {
		"console.form.draft": "This event is a draft: everything but its address (the slug) can change until you publish it.",
	},
	"ko": {
		"console.form.draft": "이 대회는 초안입니다. 공개하기 전까지 주소(슬러그)를 제외한 모든 항목을 바꿀 수 있습니다.",
	},
}

func init() { mergeMessages(messages, draftMessages) }
