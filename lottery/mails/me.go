package mails

// MeCodeData fills MeCode: the one-time code that shows a runner every
// entry of their address ("my entries"). Rendered at write time, like
// OTPCode: the plain code is stored nowhere else.
type MeCodeData struct {
	Code    string
	Minutes int // how long the code is valid
}
