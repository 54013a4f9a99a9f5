package flight

// SendBlock is send, for tests that need a real stream's messages.
var SendBlock = send
