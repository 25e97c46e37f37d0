//go:build !race

package main

// raceBuild says the test binary was built with -race; buildStartline builds
// the binary the same way.
const raceBuild = false
