// Package migrations holds the versioned SQL schema of Startline, embedded so
// the binary can migrate a database without files on disk.
package migrations

import "embed"

// FS holds every NNNNN_name.sql goose migration in this directory.
//
//go:embed *.sql
var FS embed.FS
