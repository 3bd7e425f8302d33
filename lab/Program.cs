namespace AutoStop.Lab;

public static class Program
{
    public static Task<int> Main(string[] args) => LabCommands.RunAsync(args, Console.Out, Console.Error);
}
