// Package alert defines the Alert the collector emits and its rendering as
// text. It holds no state: building alerts from evidence is the engine's
// job, delivering them is notify's.
package alert
