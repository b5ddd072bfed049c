-- Argo CD health check for hpo.dev/HPORequest (docs/gitops.md).
--
--   no status yet, or status.observedGeneration behind metadata.generation  -> Progressing
--   Pending, or Generating the first generation (no points handed out yet)   -> Progressing
--   Waiting, Generating a later generation, Finished, SubFinished           -> Healthy
--   Suspended (spec.suspend: true)                                          -> Suspended
--   Failed (invalid spec, or generation failed with nothing evaluated)      -> Degraded
--
-- A request is Healthy once it serves points, not only when it has ended: training fleets that
-- evaluate the points are often synced after it (sync waves) and would otherwise wait forever.
-- Wait for the end with `kubectl wait --for=condition=Complete` or `kubectl hpo watch`.
-- Uses only the base and table libraries, which is what Argo CD opens for a health script.
local hs = {}
local st = obj.status
local generation = obj.metadata.generation

if st == nil or st.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the hpo-operator to pick up the request"
  return hs
end
if generation ~= nil and (st.observedGeneration == nil or st.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the hpo-operator to observe generation " .. tostring(generation)
  return hs
end

local phase = st.phase
local message = st.message
if message == nil or message == "" then
  message = phase
end
local ready = nil
if st.conditions ~= nil then
  for _, c in ipairs(st.conditions) do
    if c.type == "Ready" then
      ready = c
    end
  end
end

if phase == "Failed" or (ready ~= nil and ready.status == "False") then
  hs.status = "Degraded"
  if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
    hs.message = ready.message
  else
    hs.message = message
  end
  return hs
end
if phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = message
  return hs
end
local firstGeneration = st.lastGeneration == nil or st.lastGeneration.number == nil or st.lastGeneration.number <= 1
if phase == "Pending" or (phase == "Generating" and firstGeneration) then
  hs.status = "Progressing"
  hs.message = message
  return hs
end
if phase == "Waiting" or phase == "Generating" or phase == "Finished" or phase == "SubFinished" then
  hs.status = "Healthy"
  hs.message = message
  return hs
end
hs.status = "Unknown"
hs.message = "unknown phase " .. tostring(phase) .. ": " .. message
return hs
