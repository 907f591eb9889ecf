"""Running the help desk: its one configuration object and the processes it starts."""
