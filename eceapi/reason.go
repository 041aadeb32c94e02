package eceapi

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// Reasons are the bounded classes of request failures, the values of the
// exporter's reason labels. ErrorReason picks one for any error.
const (
	// ReasonTimeout: the request (or its context) ran out of time; 408, 504.
	ReasonTimeout = "timeout"
	// ReasonRateLimited: 429, or the client's own request budget is spent.
	ReasonRateLimited = "rate_limited"
	// ReasonAuth: 401 or 403.
	ReasonAuth = "auth"
	// ReasonNotFound: 404.
	ReasonNotFound = "not_found"
	// ReasonServer: 5xx other than 504.
	ReasonServer = "server"
	// ReasonConfig: any other 4xx (the request as configured is wrong).
	ReasonConfig = "config"
	// ReasonDecode: a 2xx answer that is too large, not the JSON the spec
	// describes, or that lacks a required field (or holds an id that cannot
	// be used in a path).
	ReasonDecode = "decode"
	// ReasonRedirect: a redirect refused (another host or scheme, too
	// many).
	ReasonRedirect = "redirect"
	// ReasonTLS: the TLS handshake failed (an unknown authority, a
	// certificate for another name, an expired certificate, a plain HTTP
	// server). Permanent: never retried.
	ReasonTLS = "tls"
	// ReasonNetwork: no answer (refused, reset, DNS, a body cut short).
	ReasonNetwork = "network"
	// ReasonInternal: anything else, a bug of the exporter.
	ReasonInternal = "internal"
)

// ErrorReason classifies an error of the client into one of the Reason
// values. It is the one classifier: self-metrics, log lines and the
// admin endpoint's answers all use it.
func ErrorReason(err error) string {
	var rl *RateLimitError
	var apiErr *APIError
	var de *DecodeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rl), errors.Is(err, ErrRequestBudget):
		return ReasonRateLimited
	case errors.As(err, &apiErr):
		switch {
		case apiErr.StatusCode == 401 || apiErr.StatusCode == 403:
			return ReasonAuth
		case apiErr.StatusCode == 404:
			return ReasonNotFound
		case apiErr.StatusCode == 408 || apiErr.StatusCode == 504:
			return ReasonTimeout
		case apiErr.StatusCode >= 500:
			return ReasonServer
		default:
			return ReasonConfig
		}
	case errors.Is(err, ErrRedirectRefused):
		return ReasonRedirect
	case isTLSError(err):
		return ReasonTLS
	case errors.As(err, &de), errors.Is(err, ErrBodyTooLarge), errors.Is(err, ErrInvalidPathSegment),
		errors.Is(err, ErrInvalidKind), isCorruptEncoding(err):
		return ReasonDecode
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isTimeout(err):
		return ReasonTimeout
	case isNetwork(err):
		return ReasonNetwork
	default:
		return ReasonInternal
	}
}

// isTLSError reports whether err is a failed TLS handshake: a certificate
// that does not verify, or a peer that does not speak TLS. Retrying cannot
// help.
func isTLSError(err error) bool {
	var verify *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	var alert tls.AlertError
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.Is(err, http.ErrSchemeMismatch)
}

func isCorruptEncoding(err error) bool {
	var flateErr flate.CorruptInputError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &flateErr)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func isNetwork(err error) bool {
	var ne net.Error
	var ue *url.Error
	var errno syscall.Errno
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.As(err, &errno) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}
