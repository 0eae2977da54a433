module github.com/httpsguard/httpsguard/bench

go 1.26.8

require (
	github.com/httpsguard/httpsguard v0.0.0
	github.com/unrolled/secure v1.17.0
)

require (
	github.com/smallstep/truststore v0.13.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	howett.net/plist v1.0.0 // indirect
)

replace github.com/httpsguard/httpsguard => ../
