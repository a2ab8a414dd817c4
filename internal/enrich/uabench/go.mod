// Module uabench compares the User-Agent parsers considered for package
// enrich. It is a module of its own so that the candidates not chosen stay
// out of Sightline's go.mod.
module github.com/sightline/sightline/internal/enrich/uabench

go 1.26

require (
	github.com/hashicorp/golang-lru v1.0.2 // indirect
	github.com/mileusna/useragent v1.3.5 // indirect
	github.com/ua-parser/uap-go v0.0.0-20260529044130-17c35e68e58c // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
