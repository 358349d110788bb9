package latchecho5_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/latchauth/latch/adapters/latchecho5"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/adaptertest"
)

// mounter serves the table's routes on the echo instance newEcho makes
// (echo.New() if nil): guarded routes behind latchecho5.Guard, endpoints
// through echo.WrapHandler.
func mounter(newEcho func(a *latchhttp.Auth) *echo.Echo) func(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
	return func(a *latchhttp.Auth, routes []adaptertest.Route) http.Handler {
		e := echo.New()
		if newEcho != nil {
			e = newEcho(a)
		}
		for _, rt := range routes {
			if rt.Use != adaptertest.Guard {
				e.Add(rt.Method, rt.Path, echo.WrapHandler(adaptertest.Endpoint(a, rt.Use, nil)))
				continue
			}
			handle := adaptertest.Handler(a, rt.App)
			answer := func(c *echo.Context) error {
				p, pok := latchecho5.Principal(c)
				u, uok := latchecho5.User[*adaptertest.User](c)
				handle(c.Response(), c.Request(), p, pok, u, uok)
				return nil
			}
			guard := latchecho5.Middleware(a, rt.Guard)
			switch rt.Via {
			case adaptertest.InGroup:
				e.Group(rt.Group, guard).Add(rt.Method, strings.TrimPrefix(rt.Path, rt.Group), answer)
			case adaptertest.GroupUse:
				g := e.Group(rt.Group)
				g.Use(guard)
				g.Add(rt.Method, strings.TrimPrefix(rt.Path, rt.Group), answer)
			default:
				e.Add(rt.Method, rt.Path, answer, guard)
			}
		}
		return e
	}
}

// TestTable runs the behavioural table: latchecho5 must answer every case
// exactly as the net/http middleware does, under echo's default error
// handler, under latchecho5.ErrorHandler, under the default handler that
// exposes errors (what stands in v5 for v4's debug mode), and with groups
// that add no catch-all 404 routes.
func TestTable(t *testing.T) {
	t.Run("default error handler", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5", Mount: mounter(nil)})
	})
	t.Run("latchecho5.ErrorHandler", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5+ErrorHandler", Mount: mounter(func(a *latchhttp.Auth) *echo.Echo {
			return echo.NewWithConfig(echo.Config{HTTPErrorHandler: latchecho5.ErrorHandler(a, echo.DefaultHTTPErrorHandler(false))})
		})})
	})
	t.Run("exposing errors", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5 exposeError", Mount: mounter(func(*latchhttp.Auth) *echo.Echo {
			return echo.NewWithConfig(echo.Config{HTTPErrorHandler: echo.DefaultHTTPErrorHandler(true)})
		})})
	})
	t.Run("NoGroupAutoRegister404Routes", func(t *testing.T) {
		adaptertest.Run(t, adaptertest.Adapter{Name: "echo5 without group 404 routes", Mount: mounter(func(*latchhttp.Auth) *echo.Echo {
			return echo.NewWithConfig(echo.Config{NoGroupAutoRegister404Routes: true})
		})})
	})
}
