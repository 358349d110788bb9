package latchhttp

import (
	"net"
	"net/http"

	"github.com/latchauth/latch"
)

// DeviceFromRequest describes the device r comes from, for
// latch.LoginOptions: label as given, the User-Agent header, and the
// peer's IP address. It does not trust X-Forwarded-For; behind a proxy,
// set IP yourself from what it vouches. Login cuts each field to
// store.MaxDeviceLen bytes.
func DeviceFromRequest(r *http.Request, label string) latch.Device {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return latch.Device{Label: label, UserAgent: r.UserAgent(), IP: ip}
}
