package web

// Staff login messages (issue 14, i14-login): a TOTP code already used in
// its window is told apart from a wrong one, so a staff member waits for
// the next code instead of retyping.
var loginCodeMessages = map[string]map[string]string{
	"en": {"totp_reused": "This code was already used; wait for the next one."},
	"ko": {"totp_reused": "이미 사용한 코드입니다. 다음 코드가 나올 때까지 기다리세요."},
}

func init() { mergeMessages(codeMessages, loginCodeMessages) }
