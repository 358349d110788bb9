package sqlstore_test

// The driver packages, linked into this package's test binary: they
// register the sqlite, postgres, postgresql and mysql schemes with
// store.Open and sqlstore.Open, which the tests of package sqlstore use.
// (Package sqlstore's own test files cannot import them: they import
// sqlstore.)
import (
	_ "github.com/latchauth/latch/store/sqlstore/mysql"
	_ "github.com/latchauth/latch/store/sqlstore/postgres"
	_ "github.com/latchauth/latch/store/sqlstore/sqlite"
)
