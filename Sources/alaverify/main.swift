import AlaverifyCLI

AlaverifyCommand.main()
