import AlaverifyCLI

AlaverifyCommand.runMain()
