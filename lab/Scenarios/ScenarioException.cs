namespace AutoStop.Lab.Scenarios;

/// <summary>A scenario file that cannot be used: the message names the file, the path to the bad field, the value and what is allowed.</summary>
public sealed class ScenarioException(string message) : Exception(message);
