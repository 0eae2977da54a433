//go:build !race

package httpsguard

const raceEnabled = false
