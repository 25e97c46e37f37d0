package web

// Issue 14: the organizer console's shared words (header, tabs). Each
// console branch adds its own keys in a file of its own, merged like this
// one (mergeMessages).
var consoleMessages = map[string]map[string]string{
	"en": {
		"console.nav":           "Console",
		"console.nav.events":    "Events",
		"console.nav.team":      "Team",
		"console.nav.review":    "Review queue",
		"console.nav.queues":    "Task queues",
		"console.tabs":          "Event pages",
		"console.tab.overview":  "Overview",
		"console.tab.edit":      "Edit",
		"console.tab.entries":   "Entries",
		"console.tab.dashboard": "Dashboard",
		"console.tab.exports":   "Exports",
		"console.tab.audit":     "Audit log",
	},
	"ko": {
		"console.nav":           "콘솔",
		"console.nav.events":    "대회",
		"console.nav.team":      "팀",
		"console.nav.review":    "검토 대기열",
		"console.nav.queues":    "작업 대기열",
		"console.tabs":          "대회 페이지",
		"console.tab.overview":  "개요",
		"console.tab.edit":      "편집",
		"console.tab.entries":   "참가 신청",
		"console.tab.dashboard": "대시보드",
		"console.tab.exports":   "내보내기",
		"console.tab.audit":     "감사 기록",
	},
}

func init() { mergeMessages(messages, consoleMessages) }
