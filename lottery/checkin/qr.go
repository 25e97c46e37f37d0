package checkin

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QRPNG draws a code as a QR code PNG of size pixels a side (alphanumeric
// mode, error correction M: a scuffed phone screen still reads).
func QRPNG(code string, size int) ([]byte, error) {
	b, err := qr.Encode(code, qr.M, qr.AlphaNumeric)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	if b, err = barcode.Scale(b, size, size); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, b); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return buf.Bytes(), nil
}

// QRDataURL is QRPNG as a data: URL for an <img>.
func QRDataURL(code string, size int) (string, error) {
	b, err := QRPNG(code, size)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil
}

// Grouped writes a code in groups of four for reading aloud or typing.
func Grouped(code string) string {
	var b []byte
	for i := 0; i < len(code); i++ {
		if i > 0 && i%4 == 0 {
			b = append(b, ' ')
		}
		b = append(b, code[i])
	}
	return string(b)
}
