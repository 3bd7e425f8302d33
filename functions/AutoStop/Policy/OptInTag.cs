using AutoStop.Configuration;

namespace AutoStop.Policy;

/// <summary>What an instance's opt-in tag (AUTOSTOP_TAG_KEY) says.</summary>
public enum OptIn
{
    /// <summary>The tag is missing.</summary>
    Missing,
    /// <summary>The value is not true (e.g. false, off).</summary>
    NotTrue,
    /// <summary>true with spaces around it: looks opted in, but IAM's StringEqualsIgnoreCase refuses it.</summary>
    Padded,
    /// <summary>Exactly true, any case: opted in.</summary>
    OptedIn,
}

/// <summary>The one reading of the opt-in tag, shared by the function (InstanceScreen) and the `autostop` command for people.</summary>
public static class OptInTag
{
    /// <summary>Exactly what the IAM policies allow: StringEqualsIgnoreCase "true" ignores case, not spaces.</summary>
    public static OptIn Read(IReadOnlyDictionary<string, string> tags, AutoStopConfig config, out string? value)
    {
        if (!tags.TryGetValue(config.TagKey, out value)) return OptIn.Missing;
        if (value.Equals("true", StringComparison.OrdinalIgnoreCase)) return OptIn.OptedIn;
        return value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase) ? OptIn.Padded : OptIn.NotTrue;
    }
}
