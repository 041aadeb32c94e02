package collector

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// Helpers shared by the five ECE platform collectors (platform_*.go): each
// collector keeps its own options, descriptors and poll in its own file.

// eceOnly keeps the platform collectors off on ESS accounts: Elastic Cloud
// has no platform API (it answers 404), even when enabled explicitly.
func eceOnly(acc config.Account) (bool, string) {
	if acc.Platform != config.PlatformECE {
		return false, "the platform API exists only in Elastic Cloud Enterprise"
	}
	return true, ""
}

// mib is a MiB in bytes: the platform API counts memory and storage in MiB.
const mib = 1 << 20

// platformErr says which role a refused platform call needs. A 403 stays an
// *eceapi.APIError underneath, so its reason is still "auth".
func platformErr(err error) error {
	var apiErr *eceapi.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden {
		return fmt.Errorf("the ECE platform API needs the key of a platform administrator (role ece_platform_admin): %w", err)
	}
	return err
}
