using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;
using Microsoft.AspNetCore.Http;

namespace AutoStop.Lab.Api;

/// <summary>
/// The EC2 Query API (form POST in, XML out) for the operations AutoStop and a person at the AWS CLI use:
/// DescribeInstances, StopInstances, StartInstances, CreateTags, DeleteTags, DescribeSpotInstanceRequests,
/// with EC2's error codes. Shapes follow botocore's ec2/2016-11-15 model.
/// </summary>
public sealed partial class Ec2Endpoint(LabFleet fleet, ApiGate gate, LabIam iam)
{
    private static readonly XNamespace Ns = "http://ec2.amazonaws.com/doc/2016-11-15/";

    private sealed class Ec2Error(string code, string message, int status = 400) : Exception(message)
    {
        public string Code { get; } = code;
        public int Status { get; } = status;
    }

    public async Task HandleAsync(HttpContext context, IReadOnlyDictionary<string, Microsoft.Extensions.Primitives.StringValues> form)
    {
        var query = new QueryParameters(form);
        var action = query["Action"] ?? "";
        var requestId = Guid.NewGuid().ToString();
        var error = await gate.EnterAsync("EC2:" + action, context.RequestAborted);
        if (error is not null) { await WriteErrorAsync(context, error.HttpStatus, error.Code, error.Message, requestId); return; }
        try
        {
            fleet.Advance();
            XElement body = action switch
            {
                "DescribeInstances" => DescribeInstances(query),
                "StopInstances" => StopInstances(query),
                "StartInstances" => StartInstances(query),
                "CreateTags" => CreateTags(query),
                "DeleteTags" => DeleteTags(query),
                "DescribeSpotInstanceRequests" => DescribeSpotInstanceRequests(query),
                _ => throw new Ec2Error("InvalidAction", $"The action {action} is not valid for this web service."),
            };
            body.AddFirst(new XElement(Ns + "requestId", requestId));
            context.Response.ContentType = "text/xml;charset=UTF-8";
            await context.Response.WriteAsync(body.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
        }
        catch (Ec2Error e)
        {
            await WriteErrorAsync(context, e.Status, e.Code, e.Message, requestId);
        }
    }

    private XElement DescribeInstances(QueryParameters query)
    {
        var ids = query.List("InstanceId");
        var maxText = query["MaxResults"];
        if (maxText is not null && ids.Count > 0)
            throw new Ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        var max = 1000;
        if (maxText is not null && (!int.TryParse(maxText, CultureInfo.InvariantCulture, out max) || max < 5 || max > 1000))
            throw new Ec2Error("InvalidParameterValue", $"Value ( {maxText} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.");

        IEnumerable<LabInstance> selected = ids.Count > 0 ? ids.Select(Require) : fleet.Instances;
        foreach (var (name, values) in query.Filters()) selected = Filter(selected, name, values);
        var all = selected.ToList();

        var offset = 0;
        if (query["NextToken"] is { } token && (!TryDecodeToken(token, out offset) || offset > all.Count))
            throw new Ec2Error("InvalidParameterValue", $"The pagination token '{token}' is invalid.");
        var page = all.Skip(offset).Take(max).ToList();
        var response = new XElement(Ns + "DescribeInstancesResponse",
            new XElement(Ns + "reservationSet", page.Select(Reservation)));
        if (offset + page.Count < all.Count) response.Add(new XElement(Ns + "nextToken", EncodeToken(offset + page.Count)));
        return response;
    }

    private static IEnumerable<LabInstance> Filter(IEnumerable<LabInstance> instances, string name, List<string> values)
    {
        var patterns = values.Select(Wildcard).ToList();
        bool Any(string? actual) => actual is not null && patterns.Any(p => p.IsMatch(actual));
        if (name.StartsWith("tag:", StringComparison.Ordinal))
        {
            var key = name[4..];
            return instances.Where(i => { lock (i.Gate) return Any(i.Tags.GetValueOrDefault(key)); });
        }
        return name switch
        {
            "tag-key" => instances.Where(i => { lock (i.Gate) return i.Tags.Keys.Any(Any); }),
            "instance-state-name" => instances.Where(i => Any(i.State)),
            "instance-id" => instances.Where(i => Any(i.Id)),
            _ => throw new Ec2Error("InvalidParameterValue", $"The filter '{name}' is invalid (the lab supports tag:<key>, tag-key, instance-state-name, instance-id)"),
        };
    }

    private XElement Reservation(LabInstance i)
    {
        lock (i.Gate)
        {
            var instance = new XElement(Ns + "item",
                new XElement(Ns + "instanceId", i.Id),
                new XElement(Ns + "imageId", "ami-0lab00000000000"),
                new XElement(Ns + "instanceState", new XElement(Ns + "code", LabInstance.StateCode(i.State)), new XElement(Ns + "name", i.State)),
                new XElement(Ns + "privateDnsName", ""),
                new XElement(Ns + "instanceType", "t3.medium"),
                new XElement(Ns + "launchTime", i.LaunchTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)),
                new XElement(Ns + "placement", new XElement(Ns + "availabilityZone", "us-east-1a")),
                new XElement(Ns + "rootDeviceType", i.Spec.RootDevice),
                new XElement(Ns + "rootDeviceName", "/dev/xvda"),
                new XElement(Ns + "hibernationOptions", new XElement(Ns + "configured", i.Spec.Hibernation ? "true" : "false")),
                new XElement(Ns + "tagSet", i.Tags.Select(t => new XElement(Ns + "item", new XElement(Ns + "key", t.Key), new XElement(Ns + "value", t.Value)))));
            // botocore ec2/2016-11-15 Instance: PrivateIpAddress is <privateIpAddress>, PublicIpAddress is <ipAddress>.
            var (privateIp, publicIp) = i.Addresses;
            if (privateIp is not null) instance.Add(new XElement(Ns + "privateIpAddress", privateIp));
            if (publicIp is not null) instance.Add(new XElement(Ns + "ipAddress", publicIp));
            if (i.Spec.Lifecycle is { } lifecycle)
            {
                instance.Add(new XElement(Ns + "instanceLifecycle", lifecycle));
                instance.Add(new XElement(Ns + "spotInstanceRequestId", SpotRequestId(i)));
            }
            return new XElement(Ns + "item",
                new XElement(Ns + "reservationId", i.ReservationId),
                new XElement(Ns + "ownerId", "123456789012"),
                new XElement(Ns + "groupSet"),
                new XElement(Ns + "instancesSet", instance));
        }
    }

    /// <summary>
    /// IAM authorizes every resource a request names before EC2 does anything, and one refused resource fails the whole
    /// request with UnauthorizedOperation (HTTP 403; EC2 API error codes: "You are not authorized to perform this
    /// operation", with the refusal and an encoded authorization message, re:Post knowledge-center/ec2-not-auth-launch).
    /// </summary>
    private void Authorize(string action, IEnumerable<LabInstance> instances)
    {
        if (iam.FirstRefused(action, instances) is not { } refused) return;
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes($"lab:{action}:{refused.Instance.Id}")).TrimEnd('=');
        throw new Ec2Error("UnauthorizedOperation",
            $"You are not authorized to perform this operation. {LabIam.Refusal(action, refused.Instance, refused.Explicit)}. Encoded authorization failure message: {encoded}", 403);
    }

    private XElement StopInstances(QueryParameters query)
    {
        var instances = RequireAll(query.List("InstanceId"));
        var hibernate = string.Equals(query["Hibernate"], "true", StringComparison.OrdinalIgnoreCase);
        var now = fleet.Clock.Now;
        Authorize("ec2:StopInstances", instances);
        // EC2 checks every instance first and fails the whole call for one that cannot be stopped.
        foreach (var i in instances)
        {
            if (i.Fault(FaultKind.StopError, now) is { Code: { } code })
            {
                var (status, message) = Ec2StopErrors.For(code, i.Id);
                throw new Ec2Error(code, message, status);
            }
            if (i.Spec.RootDevice == "instance-store")
                throw new Ec2Error("UnsupportedOperation", $"The instance '{i.Id}' does not have an 'ebs' root device type and cannot be stopped.");
            if (i.Spec.Lifecycle == "spot" && i.Spec.SpotType != "persistent")
                throw new Ec2Error("UnsupportedOperation", $"You can't stop the Spot Instance '{i.Id}' because it is associated with a one-time Spot Instance request.");
            if (hibernate && !i.Spec.Hibernation)
            {
                var (status, message) = Ec2StopErrors.For("UnsupportedHibernationConfiguration", i.Id);
                throw new Ec2Error("UnsupportedHibernationConfiguration", message, status);
            }
            if (!i.CanStop)
                throw new Ec2Error("IncorrectInstanceState", $"The instance '{i.Id}' is not in a state from which it can be stopped.");
        }
        return StateChanges("StopInstancesResponse", instances, i => i.Stop(now, hibernate));
    }

    private XElement StartInstances(QueryParameters query)
    {
        var instances = RequireAll(query.List("InstanceId"));
        var now = fleet.Clock.Now;
        if (instances.FirstOrDefault(i => !i.CanStart) is { } stopping)
            throw new Ec2Error("IncorrectInstanceState", $"The instance '{stopping.Id}' is not in a state from which it can be started.");
        return StateChanges("StartInstancesResponse", instances, i => i.Start(now));
    }

    private static XElement StateChanges(string root, List<LabInstance> instances, Func<LabInstance, string> change) =>
        new(Ns + root, new XElement(Ns + "instancesSet", instances.Select(i =>
        {
            var previous = change(i);
            return new XElement(Ns + "item",
                new XElement(Ns + "instanceId", i.Id),
                new XElement(Ns + "currentState", new XElement(Ns + "code", LabInstance.StateCode(i.State)), new XElement(Ns + "name", i.State)),
                new XElement(Ns + "previousState", new XElement(Ns + "code", LabInstance.StateCode(previous)), new XElement(Ns + "name", previous)));
        })));

    private XElement CreateTags(QueryParameters query)
    {
        var instances = RequireAll(query.List("ResourceId"));
        var tags = query.Tags();
        if (tags.Count == 0) throw new Ec2Error("MissingParameter", "The request must contain the parameter tag");
        foreach (var (key, value) in tags)
        {
            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) || key.Length is 0 or > 128 || (value?.Length ?? 0) > 256)
                throw new Ec2Error("InvalidParameterValue", $"Tag key '{key}' is not allowed: 1 to 128 characters, not starting with aws:, values up to 256 characters");
        }
        // Check every resource before writing any: EC2 applies all the tags or none. IAM first, then the limit.
        Authorize("ec2:CreateTags", instances);
        foreach (var i in instances)
            lock (i.Gate)
                if (i.Tags.Keys.Union(tags.Select(t => t.Key), StringComparer.Ordinal).Count() > 50)
                    throw new Ec2Error("TagLimitExceeded", $"The maximum number of tags (50) for resource '{i.Id}' has been reached.");
        foreach (var i in instances)
            lock (i.Gate)
                foreach (var (key, value) in tags) i.Tags[key] = value ?? "";
        return new XElement(Ns + "CreateTagsResponse", new XElement(Ns + "return", "true"));
    }

    private XElement DeleteTags(QueryParameters query)
    {
        var instances = RequireAll(query.List("ResourceId"));
        var tags = query.Tags();
        // All or nothing, as CreateTags: one refused resource fails the whole call and no tag is removed anywhere.
        Authorize("ec2:DeleteTags", instances);
        foreach (var i in instances)
            lock (i.Gate)
            {
                if (tags.Count == 0) { i.Tags.Clear(); continue; }
                foreach (var (key, value) in tags)
                    if (value is null || i.Tags.GetValueOrDefault(key) == value) i.Tags.Remove(key);
            }
        return new XElement(Ns + "DeleteTagsResponse", new XElement(Ns + "return", "true"));
    }

    private XElement DescribeSpotInstanceRequests(QueryParameters query)
    {
        var wanted = query.List("SpotInstanceRequestId").ToHashSet(StringComparer.Ordinal);
        // EC2 deletes a cancelled request four hours after cancellation; naming a deleted (or unknown) one fails the whole
        // call: InvalidSpotInstanceRequestID.NotFound, "The spot instance request ID 'sir-...' does not exist"
        // (EC2 API error codes; the message as EC2 answers it in NixOS/nixops#514 and cloudfoundry/bosh#577).
        var live = fleet.Instances.Where(i => i.Spec.Lifecycle == "spot" && !i.Spec.SpotRequestDeleted).ToList();
        if (wanted.FirstOrDefault(id => !live.Any(i => SpotRequestId(i) == id)) is { } missing)
            throw new Ec2Error("InvalidSpotInstanceRequestID.NotFound", $"The spot instance request ID '{missing}' does not exist");
        var spots = live.Where(i => wanted.Count == 0 || wanted.Contains(SpotRequestId(i)));
        return new XElement(Ns + "DescribeSpotInstanceRequestsResponse", new XElement(Ns + "spotInstanceRequestSet", spots.Select(i =>
            new XElement(Ns + "item",
                new XElement(Ns + "spotInstanceRequestId", SpotRequestId(i)),
                new XElement(Ns + "type", i.Spec.SpotType ?? "one-time"),
                new XElement(Ns + "state", "active"),
                new XElement(Ns + "instanceId", i.Id)))));
    }

    private static string SpotRequestId(LabInstance i) => "sir-" + i.Id[2..Math.Min(i.Id.Length, 10)];

    private List<LabInstance> RequireAll(List<string> ids)
    {
        if (ids.Count == 0) throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
        return ids.Select(Require).ToList();
    }

    private LabInstance Require(string id)
    {
        if (!InstanceIdPattern().IsMatch(id)) throw new Ec2Error("InvalidInstanceID.Malformed", $"Invalid id: \"{id}\"");
        return fleet.Find(id) ?? throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message, string requestId)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml;charset=UTF-8";
        var body = new XElement("Response",
            new XElement("Errors", new XElement("Error", new XElement("Code", code), new XElement("Message", message))),
            new XElement("RequestID", requestId));
        await context.Response.WriteAsync(body.ToString(SaveOptions.DisableFormatting));
    }

    private static Regex Wildcard(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);

    private static string EncodeToken(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes("lab:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static bool TryDecodeToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("lab:", StringComparison.Ordinal) && int.TryParse(text[4..], CultureInfo.InvariantCulture, out offset) && offset >= 0;
        }
        catch (FormatException) { return false; }
    }

    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex InstanceIdPattern();
}
